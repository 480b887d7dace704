//go:build !unix

package multilang

import (
	"os"
	"os/exec"
)

// On systems without process groups only the direct child is killed.

func setProcAttr(*exec.Cmd) {}

func killGroup(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}

func signalGroup(pid int) { killGroup(pid) }
