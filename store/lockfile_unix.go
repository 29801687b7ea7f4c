//go:build unix

package store

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive lock on the file at path (created if
// needed) without waiting; the operating system drops it when the process
// ends, however it ends.
func lockFile(path string) (unlock func() error, err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	return f.Close, nil
}
