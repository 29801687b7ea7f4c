// Command paydesk is a terminal console and command line for payment
// operations on Alipay and WeChat Pay: reconciling the platforms' bills,
// looking up and refunding orders, and receiving and replaying payment
// callbacks. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// Exit codes (DESIGN §6): 0 success, 1 failure, 2 misuse.
const (
	exitOK      = 0
	exitFailure = 1
	exitMisuse  = 2
)

func run(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCmd()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(os.Stderr, "paydesk:", err)
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
