package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/ops"
)

func newRefundCmd(a *app) *cobra.Command {
	var amount, reason, retry string
	var yes, asJSON bool
	cmd := &cobra.Command{
		Use:   "refund OUT_TRADE_NO --amount A --reason R [--yes] | --retry OUT_REQUEST_NO",
		Short: "Refund part or all of a paid order, or settle a pending refund",
		Long: `Refund records a PENDING refund with a fresh request number (never above what is
refundable: paid minus refunded minus pending), then asks the platform. If the
platform's answer never comes, the refund stays PENDING; --retry asks the platform
about it and re-sends the same request number if it was never received, so one
decision can never refund twice. Without --yes it shows what will happen and asks
(above [refund] confirm_above, you type the order number).

The exit code is the refund's state: 0 refunded; 1 refused or ended otherwise
(FAILED, ABNORMAL: the note says what to do); 3 outcome unknown (PENDING: no
answer came, or the platform is still processing it): run --retry later, never
the refund again.

` + exitCodesHelp,
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			if retry != "" {
				if len(args) > 0 || amount != "" {
					return usagef("--retry takes only the request number")
				}
				svc, err := a.service()
				if err != nil {
					return err
				}
				res, err := svc.RetryRefund(cmd.Context(), retry)
				if errors.Is(err, ops.ErrRefundTooSoon) {
					// Still unknown: the script should come back later.
					return exitCodeError{exitPending, err}
				}
				if err != nil {
					return err
				}
				if err := printRefund(out, res, asJSON); err != nil {
					return err
				}
				return refundExit(res)
			}
			if len(args) != 1 {
				return usagef("give one order number (or --retry OUT_REQUEST_NO)")
			}
			if amount == "" {
				return usagef("--amount is required (yuan, e.g. 12.30)")
			}
			m, err := gateway.ParseMoney(amount)
			if err != nil {
				return usageError{fmt.Errorf("--amount: %w", err)}
			}
			svc, err := a.service()
			if err != nil {
				return err
			}
			plan, err := svc.PlanRefund(cmd.Context(), args[0], m, reason)
			if err != nil {
				return err
			}
			if !yes {
				cfg, _ := a.loadConfig()
				if err := confirmRefund(cmd.InOrStdin(), cmd.ErrOrStderr(), plan, cfg.Refund.Threshold); err != nil {
					return err
				}
			}
			res, err := svc.Refund(cmd.Context(), args[0], m, reason)
			if err != nil {
				return err
			}
			if err := printRefund(out, res, asJSON); err != nil {
				return err
			}
			return refundExit(res)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&amount, "amount", "", "amount to refund in yuan (e.g. 12.30)")
	fl.StringVar(&reason, "reason", "", "why (sent to the platform and kept in the audit log)")
	fl.BoolVar(&yes, "yes", false, "do not ask for confirmation")
	fl.StringVar(&retry, "retry", "", "settle the PENDING refund with this request number")
	fl.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// refundExit turns a refund's state into the exit code a script acts on:
// only a refund the platform confirmed is 0.
func refundExit(r ops.RefundOutcome) error {
	f := r.Refund
	switch {
	case f.Status == gateway.RefundSuccess && !r.Unknown:
		return nil
	case r.Unknown || f.Status == gateway.RefundPending:
		return exitCodeError{exitPending, fmt.Errorf("refund %s is PENDING: its outcome is not known yet; run `paydesk refund --retry %s` later (never the refund again)", f.OutRequestNo, f.OutRequestNo)}
	}
	return fmt.Errorf("refund %s is %s, not refunded: %s", f.OutRequestNo, f.Status, r.Note)
}

// confirmRefund shows the plan and asks; above the threshold the operator
// types the order number, so a slip of the Enter key cannot send money.
func confirmRefund(in io.Reader, w io.Writer, plan ops.RefundPlan, threshold gateway.Money) error {
	if f, ok := in.(*os.File); ok && !term.IsTerminal(int(f.Fd())) {
		return usagef("not asking on a non-terminal: review with a terminal, or pass --yes")
	}
	fmt.Fprintf(w, "This will %s.\nReason: %s\n", plan.Describe(), plan.Reason)
	want := "y"
	if plan.Amount > threshold {
		want = plan.Order.OutTradeNo
		fmt.Fprintf(w, "The amount is above %s: type the order number to confirm: ", threshold.Yuan())
	} else {
		fmt.Fprint(w, "Refund? [y/N] ")
	}
	line, _ := bufio.NewReader(in).ReadString('\n')
	got := strings.TrimSpace(line)
	if (want == "y" && strings.EqualFold(got, "y")) || (want != "y" && got == want) {
		return nil
	}
	return fmt.Errorf("refund not confirmed; nothing was sent")
}

func printRefund(w io.Writer, r ops.RefundOutcome, asJSON bool) error {
	if asJSON {
		return printJSON(w, r)
	}
	f := r.Refund
	fmt.Fprintf(w, "refund %s of %s for %s: %s\n%s\n", f.OutRequestNo, f.Amount.Yuan(), f.OutTradeNo, f.Status, r.Note)
	return nil
}
