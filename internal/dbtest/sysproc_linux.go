package dbtest

import "syscall"

// sysProcAttr runs a server binary as cred (nil: as this process), and
// takes the server down if the test binary dies without stopping it.
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT}
}
