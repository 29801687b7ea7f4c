// Command paydesk is a terminal console and command line for payment
// operations on Alipay and WeChat Pay: reconciling the platforms' bills,
// looking up and refunding orders, and receiving and replaying payment
// callbacks. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/paydesk/paydesk/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
