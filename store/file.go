package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ErrEmptyFile refuses a database file of 0 bytes.
var ErrEmptyFile = errors.New("the database file is empty (0 bytes)")

// prepareFile readies the database file before SQLite opens it: a missing
// file is created private (0600), since the store holds raw callbacks with
// buyer ids; SQLite gives its -wal and -shm files the mode of the database
// file, so they are private too. The mode is set on the open file, not
// only asked for, so no umask changes it. An existing file keeps its mode:
// a team that shares the store through a group chose that.
//
// An existing empty file is refused. SQLite would take it for a new
// database and paydesk would carry on with no orders, no callbacks and no
// history; but paydesk never leaves its store empty (even a fresh store
// holds its schema), so an empty file is one that was truncated, a failed
// copy or restore, or a path typed wrong, and the person must look.
func prepareFile(path string) (created bool, err error) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return false, fmt.Errorf("create %s: %w", path, err)
		}
		err = f.Chmod(0o600)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
			return false, fmt.Errorf("create %s: %w", path, err)
		}
		return true, nil
	case err != nil:
		return false, fmt.Errorf("open %s: %w", path, err)
	case fi.IsDir():
		return false, fmt.Errorf("open %s: it is a folder, not a database file", path)
	case fi.Size() == 0:
		return false, fmt.Errorf("%s: %w: it is not a paydesk database (paydesk never leaves its store empty); restore it from a backup, or remove it to start a new one", path, ErrEmptyFile)
	}
	return false, nil
}

// removeDatabase removes a database Open created and could not finish.
func removeDatabase(path string) {
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		os.Remove(p)
	}
}
