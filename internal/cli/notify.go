package cli

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/store"
)

func newNotifyCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "notify", Short: "List and replay stored payment callbacks"}
	cmd.AddCommand(newNotifyListCmd(a), newNotifyReplayCmd(a))
	return cmd
}

func newNotifyListCmd(a *app) *cobra.Command {
	var nf notificationFilterFlags
	var asJSON bool
	var limit int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List stored callbacks, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := a.service()
			if err != nil {
				return err
			}
			f, err := nf.filter(svc.Zone())
			if err != nil {
				return err
			}
			list, err := svc.ListNotifications(cmd.Context(), f, 0, limit)
			if err != nil {
				return err
			}
			if list == nil {
				list = []store.Notification{}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return printJSON(out, list)
			}
			tw := newTable(out)
			fmt.Fprintln(tw, "ID\tRECEIVED\tCHANNEL\tORDER\tEVENT\tVERIFY\tAPPLY\tATTEMPTS\tDETAIL")
			for _, n := range list {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", n.ID, localTime(n.ReceivedAt, svc.Zone()), n.Channel, dash(n.OutTradeNo),
					dash(string(n.Event)), n.VerifyStatus, n.ApplyStatus, n.Attempts, truncate(firstNonEmpty(n.ApplyDetail, n.VerifyError), 60))
			}
			return tw.Flush()
		},
	}
	nf.add(cmd, "only callbacks that were not applied (rejected, unknown order, failed, ...)")
	fl := cmd.Flags()
	fl.IntVar(&limit, "limit", 100, "how many to list")
	fl.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newNotifyReplayCmd(a *app) *cobra.Command {
	var failed, asJSON bool
	var since string
	cmd := &cobra.Command{
		Use:   "replay ID... | --failed [--since D]",
		Short: "Verify stored callbacks again and apply them (exactly once)",
		Long: `Replay re-verifies each stored callback with the headers and body it arrived
with (freshness judged at its receipt time, so a forged one never becomes valid)
and applies it exactly once. Use it after fixing what made a callback fail: a
missing order, a key, the store.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if failed == (len(args) > 0) {
				return usagef("give notification IDs or --failed, not both or neither")
			}
			svc, err := a.service()
			if err != nil {
				return err
			}
			var ids []int64
			for _, s := range args {
				id, err := strconv.ParseInt(s, 10, 64)
				if err != nil || id <= 0 {
					return usagef("notification ID %q: want a positive number (see `paydesk notify list`)", s)
				}
				ids = append(ids, id)
			}
			if failed {
				rf := ops.ReplayFilter{}
				if rf.Since, err = parseDay("since", since, svc.Zone()); err != nil {
					return err
				}
				list, err := svc.FailedNotifications(cmd.Context(), rf)
				if err != nil {
					return err
				}
				for _, n := range list {
					ids = append(ids, n.ID)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "replaying %d failed callback(s)\n", len(ids))
			}
			results, err := svc.ReplayNotifications(cmd.Context(), ids, nil)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				if results == nil {
					results = []ops.ReplayResult{}
				}
				return printJSON(out, results)
			}
			tw := newTable(out)
			fmt.Fprintln(tw, "ID\tVERIFY\tAPPLY\tDETAIL")
			bad := 0
			for _, r := range results {
				detail := firstNonEmpty(r.Err, r.Detail)
				if r.Err != "" || r.Apply.Failed() {
					bad++
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", r.ID, dash(string(r.Verify)), dash(string(r.Apply)), truncate(detail, 80))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if bad > 0 {
				return fmt.Errorf("%d of %d replayed callback(s) still not applied", bad, len(results))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&failed, "failed", false, "replay every callback that was not applied")
	cmd.Flags().StringVar(&since, "since", "", "with --failed: only those received on or after this date")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// truncate shortens free text for a table cell, masking buyer ids first:
// an id cut in half would no longer be recognised, and half of one is
// still too much.
func truncate(s string, n int) string {
	s = gateway.MaskBuyerIDs(s)
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
