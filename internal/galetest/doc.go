// Package galetest has helpers for Gale's tests.
//
// BoltCollector and SpoutCollector are fakes for unit-testing bolts and
// spouts without an engine; tests that need real delivery and acking run a
// topology in package local, with RunToEnd when it ends by itself. Clock
// is a clock that moves only when told; Buffer, a bytes.Buffer a test may
// read while a process or a logger writes to it.
//
// Eventually is how a test waits for something to happen: it polls a
// condition until it holds and fails the test after a limit, naming what
// it waited for. Tests never sleep to let something happen when they can
// wait for it.
package galetest
