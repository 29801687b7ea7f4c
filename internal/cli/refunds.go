package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/store"
)

// refundListing is one refund as `refunds --json` prints it: the refund,
// and what a person must do about it when anything.
type refundListing struct {
	store.Refund
	NeedsAction bool   `json:"needs_action"`
	Action      string `json:"action,omitempty"`
}

func newRefundsCmd(a *app) *cobra.Command {
	var status, channel, order string
	var needsAction, asJSON bool
	var limit int
	cmd := &cobra.Command{
		Use:   "refunds [--status S] [--channel C] [--order NO] [--needs-action] [--limit N]",
		Short: "List refund requests, newest first, with what needs a person",
		Long: `List refund requests, newest first. An ABNORMAL refund (WeChat Pay's 退款异常: the money
left the merchant but the buyer's bank refused it) needs a person: the listing says what
to do. --needs-action lists only those.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f := store.RefundFilter{OutTradeNo: order}
			var err error
			if status != "" {
				if f.Status, err = gateway.ParseRefundStatus(status); err != nil {
					return usageError{fmt.Errorf("--status: %w", err)}
				}
			}
			if needsAction {
				if f.Status != "" && !f.Status.NeedsAction() {
					return usagef("--needs-action lists ABNORMAL refunds; --status %s contradicts it", f.Status)
				}
				f.Status = gateway.RefundAbnormal
			}
			if f.Channel, err = parseChannelFlag(channel); err != nil {
				return err
			}
			svc, err := a.service()
			if err != nil {
				return err
			}
			list, err := svc.ListRefunds(cmd.Context(), f, 0, limit)
			if err != nil {
				return err
			}
			rows := make([]refundListing, 0, len(list))
			for _, r := range list {
				action := ops.RefundAction(r)
				rows = append(rows, refundListing{Refund: r, NeedsAction: action != "", Action: action})
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return printJSON(out, rows)
			}
			z := svc.Zone()
			tw := newTable(out)
			fmt.Fprintln(tw, "\tCREATED\tREQUEST_NO\tORDER\tCHANNEL\tAMOUNT\tSTATUS\tBY\tNOTE")
			for _, r := range rows {
				mark := " "
				if r.NeedsAction || r.Status == gateway.RefundFailed || r.NeedsReview {
					mark = "!"
				}
				note := r.Error
				if r.NeedsReview {
					note = "review: " + note
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", mark, localTime(r.CreatedAt, z), r.OutRequestNo, r.OutTradeNo, r.Channel,
					r.Amount.Yuan(), r.Status, dash(r.Operator), truncate(dash(note), 50))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			for _, r := range rows {
				if r.NeedsAction {
					fmt.Fprintf(out, "\n! %s needs action: %s\n", r.OutRequestNo, r.Action)
				}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&status, "status", "", "PENDING, SUCCESS, FAILED or ABNORMAL")
	fl.StringVar(&channel, "channel", "", "alipay or wechat")
	fl.StringVar(&order, "order", "", "refunds of this order number")
	fl.BoolVar(&needsAction, "needs-action", false, "only refunds a person must act on (ABNORMAL)")
	fl.IntVar(&limit, "limit", 100, "how many to list")
	fl.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
