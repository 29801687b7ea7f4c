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

// Exit codes: a script decides on them, so each means one thing, on
// every command (README "Exit codes"; exitCodesHelp is the --help text).
const (
	exitOK      = 0
	exitFailure = 1
	exitMisuse  = 2
	// exitPending: a refund was recorded and sent, but its outcome is not
	// known yet (no answer: timeout, 5xx, 429; or the platform is still
	// processing it). Not 0, because the money may not have moved; not 1,
	// because it may have: `refund --retry` settles it.
	exitPending = 3
)

// exitCodesHelp is the exit code table shown by --help.
const exitCodesHelp = `Exit codes:
  0  success (for a refund: the platform refunded it)
  1  failure: the command could not do what was asked (the error says why; for
     a refund: refused by the platform, or it ended FAILED or ABNORMAL)
  2  misuse: a wrong flag, argument or missing setting; nothing was done
  3  refund outcome unknown: recorded as PENDING and sent, but no final answer
     came (timeout, 5xx, 429, still processing); run
     paydesk refund --retry OUT_REQUEST_NO later. Never re-run the refund itself.`

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
	var c exitCodeError
	if errors.As(err, &c) {
		return c.code
	}
	return exitFailure
}

// exitCodeError ends the command with a code of its own (exitPending).
type exitCodeError struct {
	code int
	err  error
}

func (e exitCodeError) Error() string { return e.err.Error() }
func (e exitCodeError) Unwrap() error { return e.err }

// usageError marks a mistake in how paydesk was called (exit code 2).
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }
