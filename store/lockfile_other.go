//go:build !unix

package store

// lockFile cannot lock on this system: one serve per SQLite file is then
// the operator's rule to keep (README, "Several serve processes").
func lockFile(string) (func() error, error) { return func() error { return nil }, nil }
