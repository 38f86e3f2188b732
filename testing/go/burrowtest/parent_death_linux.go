// On Linux the kernel kills burrowd when the test binary dies, even by SIGKILL or a panic
// that skips t.Cleanup. Strictly it fires when the OS thread that started burrowd ends; Go
// ends a thread only when a goroutine locked to it (runtime.LockOSThread) returns, which a
// test that starts brokers from such a goroutine must avoid.
package burrowtest

import "syscall"

func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
