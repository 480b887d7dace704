//go:build linux

package multilang

import "syscall"

// setDeathSignal makes the kernel kill the subprocess if Gale dies.
func setDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
