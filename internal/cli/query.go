package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/store"
)

func newQueryCmd(a *app) *cobra.Command {
	var pending, asJSON bool
	cmd := &cobra.Command{
		Use:   "query OUT_TRADE_NO... | --pending",
		Short: "Ask the platform for the live state of orders",
		Long: `Query asks the platform about each order, within [query] concurrency and qps.
Every answer is logged. A query that proves payment marks the order PAID (paid via
query); any other disagreement (a refund or close the store lacks, a payment the
platform does not know) is reported, never applied silently.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if pending == (len(args) > 0) {
				return usagef("give order numbers or --pending, not both or neither")
			}
			svc, err := a.service()
			if err != nil {
				return err
			}
			cfg, _ := a.loadConfig()
			nos := args
			if pending {
				if nos, err = svc.PendingOrders(cmd.Context(), store.OrderFilter{}); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "querying %d pending order(s) at %.0f/s per platform\n", len(nos), cfg.Query.QPS)
			}
			results, err := svc.QueryTrades(cmd.Context(), nos, ops.QueryOptions{Concurrency: cfg.Query.Concurrency, QPS: cfg.Query.QPS})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				if results == nil {
					results = []ops.QueryResult{}
				}
				return printJSON(out, results)
			}
			tw := newTable(out)
			fmt.Fprintln(tw, "OUT_TRADE_NO\tCHANNEL\tLOCAL\tPLATFORM\tRESULT")
			failed := 0
			for _, r := range results {
				platform := "-"
				if r.Trade != nil {
					platform = r.Trade.PlatformState
				}
				result := r.Note
				switch {
				case r.Err != "":
					result, failed = "error: "+r.Err, failed+1
				case r.Applied:
					result = "APPLIED: " + r.Note
				case r.Disagrees:
					result = "≠ " + r.Note
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.OutTradeNo, dash(string(r.Channel)), dash(string(r.Local.Status)), platform, result)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d queries failed", failed, len(results))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&pending, "pending", false, "query every PENDING order")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
