//go:build unix && !linux

package multilang

import "syscall"

func setDeathSignal(*syscall.SysProcAttr) {}
