package kvlog

// DecodeFrameForTest exposes decodeFrame to the fuzzer.
func DecodeFrameForTest(b []byte) ([]Record, int, bool) { return decodeFrame(b) }
