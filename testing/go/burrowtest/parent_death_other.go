//go:build !linux

// Elsewhere burrowd outlives a test binary that dies without running its cleanups.
package burrowtest

import "syscall"

func dieWithParent() *syscall.SysProcAttr { return nil }
