package local

// SendRemote exposes sendRemote to the tests of package local_test.
var SendRemote = (*Runtime).sendRemote
