package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/store"
)

func newOrdersCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "orders",
		Short: "Import, list and show local orders",
	}
	cmd.AddCommand(newOrdersImportCmd(a), newOrdersListCmd(a), newOrdersShowCmd(a))
	return cmd
}

func newOrdersImportCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Import orders from CSV or JSONL (all or nothing)",
		Long: `Import orders from a CSV file with a header line, or a JSONL file with one object
per line. A bad row stops the import, names its file, line and column, and imports
nothing.

Columns (CSV header names, JSONL keys), with the longest value each accepts in
characters:
` + ops.OrderColumnsHelp() + `
Encoding: UTF-8 (with or without a byte order mark), or for CSV also GBK, what
Excel on a Chinese Windows saves as "CSV (逗号分隔)": decided from the file's first
non-ASCII bytes and stated in the result. A file that mixes encodings, or has bytes
neither reads, is refused at its line. JSONL is UTF-8 only, one object per line; a
key given twice or text after the object is an error. A CSV field longer than
` + fmt.Sprintf("%d bytes, or a JSONL line longer than %d KiB,", ops.MaxCSVField, ops.MaxJSONLine>>10) + ` stops the import where it is seen.`,
		Args: exactArgs(1, "FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := a.service()
			if err != nil {
				return err
			}
			res, err := svc.ImportOrders(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), res)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "imported %s from %s (%s, %s) in %s\n", plural(res.Orders, "order", "orders"), res.File, res.Format, res.Encoding, res.Duration.Round(time.Millisecond))
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

func newOrdersListCmd(a *app) *cobra.Command {
	var (
		of          orderFilterFlags
		limit       int
		all, asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List orders, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := a.service()
			if err != nil {
				return err
			}
			f, err := of.filter(svc.Zone())
			if err != nil {
				return err
			}
			if limit < 1 {
				return usagef("--limit %d: want at least 1", limit)
			}
			ctx := cmd.Context()
			total, err := svc.CountOrders(ctx, f)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			rows := []ops.OrderRow{}
			var cur *store.Cursor
			for {
				page, err := svc.ListOrders(ctx, f, cur, store.Older, min(limit, 1000))
				if err != nil {
					return err
				}
				rows = append(rows, page.Rows...)
				if len(page.Rows) == 0 || (!all && len(rows) >= limit) {
					break
				}
				cur = &page.Last
			}
			if !all && len(rows) > limit {
				rows = rows[:limit]
			}
			if asJSON {
				return printJSON(out, struct {
					Total  int            `json:"total"`
					Orders []ops.OrderRow `json:"orders"`
				}{total, rows})
			}
			tw := newTable(out)
			fmt.Fprintln(tw, "CREATED\tOUT_TRADE_NO\tCHANNEL\tAMOUNT\tSTATUS\tREFUNDED\tTRADE_NO\tPLATFORM\tCALLBACK")
			for _, r := range rows {
				platform := "-"
				if r.Platform != nil {
					platform = r.Platform.PlatformState
					if r.Platform.Error != "" {
						platform = "error"
					}
					if r.Disagrees {
						platform = "≠ " + platform
					}
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", localTime(r.CreatedAt, svc.Zone()), r.OutTradeNo, r.Channel,
					r.Amount, r.Status, r.Refunded, dash(r.TradeNo), platform, dash(string(r.Callback)))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if len(rows) < total {
				fmt.Fprintf(cmd.ErrOrStderr(), "showing %d of %d orders; narrow with filters, or use --limit N or --all\n", len(rows), total)
			}
			return nil
		},
	}
	of.add(cmd)
	fl := cmd.Flags()
	fl.IntVar(&limit, "limit", 100, "how many orders to print")
	fl.BoolVar(&all, "all", false, "print every matching order")
	fl.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newOrdersShowCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show OUT_TRADE_NO",
		Short: "Show one order with its callbacks, queries, refunds and audit trail",
		Args:  exactArgs(1, "OUT_TRADE_NO"),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := a.service()
			if err != nil {
				return err
			}
			d, err := svc.ShowOrder(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return printJSON(out, d)
			}
			z := svc.Zone()
			o := d.Order
			tw := newTable(out)
			for _, kv := range [][2]string{
				{"order", o.OutTradeNo}, {"channel", string(o.Channel)}, {"amount", o.Amount.Yuan() + " " + o.Currency},
				{"subject", dash(o.Subject)}, {"status", string(o.Status)}, {"trade_no", dash(o.TradeNo)},
				{"paid", localTime(o.PaidAt, z) + viaSuffix(o.PaidVia)}, {"refunded", o.Refunded.Yuan()},
				{"refundable", d.Refundable.Yuan() + pendingSuffix(d.Ceiling.Pending) + abnormalSuffix(d.Ceiling.Abnormal)}, {"created", localTime(o.CreatedAt, z)},
			} {
				fmt.Fprintf(tw, "%s\t%s\n", kv[0], kv[1])
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintln(out, "\ntimeline")
			for _, e := range d.Timeline {
				mark := " "
				if e.Bad {
					mark = "!"
				}
				fmt.Fprintf(out, "%s %s  %-12s %s\n", mark, localTime(e.At, z), e.Kind, gateway.MaskBuyerIDs(e.Text))
			}
			if len(d.Actions) > 0 {
				fmt.Fprintln(out, "\nneeds action")
				for _, act := range d.Actions {
					fmt.Fprintf(out, "! refund %s (%s, %s): %s\n", act.OutRequestNo, act.Amount.Yuan(), act.Status, act.Action)
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func viaSuffix(v store.PaidVia) string {
	if v == "" {
		return ""
	}
	return " (via " + string(v) + ")"
}

func abnormalSuffix(m gateway.Money) string {
	if m == 0 {
		return ""
	}
	return " (" + m.Yuan() + " held by an ABNORMAL refund)"
}

func pendingSuffix(p gateway.Money) string {
	if p == 0 {
		return ""
	}
	return " (" + p.Yuan() + " pending)"
}

// exactArgs is cobra.ExactArgs with a usage error that names the argument.
func exactArgs(n int, names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s takes %s, got %d argument(s)", cmd.CommandPath(), strings.Join(names, " "), len(args))
		}
		return nil
	}
}
