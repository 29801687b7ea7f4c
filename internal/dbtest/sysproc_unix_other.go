//go:build unix && !linux

package dbtest

import "syscall"

// sysProcAttr runs a server binary as cred (nil: as this process).
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred}
}
