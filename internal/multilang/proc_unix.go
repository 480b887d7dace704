//go:build unix

package multilang

import (
	"os/exec"
	"syscall"
)

func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setDeathSignal(cmd.SysProcAttr)
}

// killGroup sends SIGKILL to the process group led by pid.
func killGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }

// signalGroup sends SIGTERM to the process group led by pid.
func signalGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGTERM) }
