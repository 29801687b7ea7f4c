// Package cli is paydesk's command line: one cobra command per file, all
// calling ops (never the store or a gateway directly). Run is the whole
// program; main.go only hands it the process's arguments and streams.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// Exit codes (ARCHITECTURE.md, "CLI contract"): 0 success, 1 failure,
// 2 misuse.
const (
	exitOK      = 0
	exitFailure = 1
	exitMisuse  = 2
)

// Run runs paydesk with args (without the program name) on the given
// streams and returns the process's exit code. It never touches os.Stdin,
// os.Stdout or os.Stderr itself, so tests run it in parallel.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd(stderr)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(stderr, "paydesk:", err)
	var u usageError
	if errors.As(err, &u) {
		return exitMisuse
	}
	return exitFailure
}

// usageError marks a mistake in how paydesk was called (exit code 2).
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }
