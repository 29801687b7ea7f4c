package exports

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ErrExists is returned when an export would replace a file and force was
// not given.
var ErrExists = errors.New("file already exists")

// WriteFile writes a workbook to path through write so that path either
// keeps what it had or holds the whole new file: write fills a temporary
// file in the same folder, which is synced and then linked or renamed into
// place. A failed write removes the temporary file and leaves path alone.
// Without force an existing path is refused with ErrExists, both before
// anything is written and (race-free, by a hard link that cannot replace)
// when the file is put in place.
func WriteFile(path string, force bool, write func(io.Writer) error) (err error) {
	if !force {
		if _, err := os.Lstat(path); err == nil {
			return fmt.Errorf("%s: %w", path, ErrExists)
		}
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".*.part")
	if err != nil {
		return fmt.Errorf("export to %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = write(tmp); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("export to %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("export to %s: %w", path, err)
	}
	if force {
		err = os.Rename(tmp.Name(), path)
	} else if err = os.Link(tmp.Name(), path); err == nil {
		os.Remove(tmp.Name())
	} else if errors.Is(err, os.ErrExist) {
		err = fmt.Errorf("%s: %w", path, ErrExists)
	} else if _, statErr := os.Lstat(path); statErr == nil {
		// A file system without hard links (some network and FAT
		// mounts): the check above is all that can be done there.
		err = fmt.Errorf("%s: %w", path, ErrExists)
	} else {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return err
	}
	// The rename is durable once the folder is synced too.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
