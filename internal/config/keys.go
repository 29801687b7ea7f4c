package config

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
)

// readKey reads a key or certificate file a key names; an empty file is an
// error (a key file truncated by a failed copy must not look like no key).
func readKey(section, key, path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("[%s] %s: cannot read %s: %w", section, key, path, unwrapPathError(err))
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil, fmt.Errorf("[%s] %s: %s is empty", section, key, path)
	}
	return b, nil
}

// readSecret is readKey for secret material (a private key, the APIv3
// key, any symmetric key): a file that group or others may read adds a
// warning naming it. A warning and not a refusal: Kubernetes mounts secret
// volumes 0644 by default, and refusing to start there would only teach
// people to loosen something else.
func readSecret(section, key, path string, warnings *[]string) ([]byte, error) {
	b, err := readKey(section, key, path)
	if err != nil {
		return nil, err
	}
	// A file two keys name (v2 and APIv3 share private_key_file) warns once.
	if w := exposedSecret(section, key, path); w != "" && !slices.Contains(*warnings, w) {
		*warnings = append(*warnings, w)
	}
	return b, nil
}

// exposedSecret says why a secret file is readable by others, or "". The
// mode is the target's when path is a symlink (as in a Kubernetes secret
// volume), since that is what other users can open. Any group or other bit
// counts: a key others can replace is as bad as one they can read.
func exposedSecret(section, key, path string) string {
	if runtime.GOOS == "windows" {
		return "" // permission bits mean nothing there; ACLs decide
	}
	fi, err := os.Stat(path)
	if err != nil {
		return ""
	}
	mode := fi.Mode().Perm()
	if mode&0o077 == 0 {
		return ""
	}
	who := "group and others"
	switch {
	case mode&0o070 == 0:
		who = "others"
	case mode&0o007 == 0:
		who = "its group"
	}
	return fmt.Sprintf("[%s] %s: %s is open to %s (mode %04o) but holds a secret key: chmod 600 it", section, key, path, who, mode)
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
