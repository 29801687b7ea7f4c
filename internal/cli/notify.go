package cli

import (
	"cmp"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/store"
)

func newNotifyCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "notify", Short: "List and replay stored payment callbacks"}
	cmd.AddCommand(newNotifyListCmd(a), newNotifyShowCmd(a), newNotifyReplayCmd(a), newNotifyPruneCmd(a))
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
			fmt.Fprintln(tw, "ID\tRECEIVED\tCHANNEL\tORDER\tEVENT\tVERIFY\tKEY\tAPPLY\tATTEMPTS\tDETAIL")
			for _, n := range list {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", n.ID, localTime(n.ReceivedAt, svc.Zone()), n.Channel, dash(n.OutTradeNo),
					dash(string(n.Event)), n.VerifyStatus, dash(n.VerifyKey), n.ApplyStatus, n.Attempts, truncate(cmp.Or(n.ApplyDetail, n.VerifyError), 60))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			// What the cap counted instead of storing is part of the log.
			since := f.Since
			if since.IsZero() {
				since = time.Now().Add(-24 * time.Hour)
			}
			if o, err := svc.UnverifiedOverflow(cmd.Context(), since); err == nil && o.Requests > 0 {
				fmt.Fprintf(out, "and %d unverified callback(s) (%d bytes) from %d sender(s) over the per-sender cap since %s: counted, not stored\n",
					o.Requests, o.Bytes, o.Senders, localTime(since, svc.Zone()))
			}
			return nil
		},
	}
	nf.add(cmd, "only callbacks that were not applied (rejected, unknown order, failed, ...)")
	fl := cmd.Flags()
	fl.IntVar(&limit, "limit", 100, "how many to list")
	fl.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// notificationShown is `notify show --json`: the callback, its attempts,
// and its headers (the raw body stays in the store and the console).
type notificationShown struct {
	store.Notification
	Header     map[string][]string `json:"headers"`
	AttemptLog []store.Attempt     `json:"attempt_log"`
}

func newNotifyShowCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show one stored callback: its outcome, the key that verified it, its headers and every attempt",
		Args:  exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return usagef("notification ID %q: want a positive number (see `paydesk notify list`)", args[0])
			}
			svc, err := a.service()
			if err != nil {
				return err
			}
			n, attempts, err := svc.Notification(cmd.Context(), id)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				if attempts == nil {
					attempts = []store.Attempt{}
				}
				return printJSON(out, notificationShown{Notification: n, Header: n.Header, AttemptLog: attempts})
			}
			z := svc.Zone()
			tw := newTable(out)
			amount := "-"
			if n.Amount != nil {
				amount = n.Amount.Yuan()
			}
			for _, kv := range [][2]string{
				{"notification", strconv.FormatInt(n.ID, 10)}, {"channel", string(n.Channel)}, {"received", localTime(n.ReceivedAt, z) + " from " + dash(n.RemoteAddr)},
				{"verify", string(n.VerifyStatus) + suffix(n.VerifyError)}, {"verified by", dash(n.VerifyKey)},
				{"apply", string(n.ApplyStatus) + suffix(n.ApplyDetail)}, {"event", dash(string(n.Event))}, {"order", dash(n.OutTradeNo)},
				{"trade_no", dash(n.TradeNo)}, {"refund no", dash(n.OutRequestNo)}, {"amount", amount},
			} {
				fmt.Fprintf(tw, "%s\t%s\n", kv[0], kv[1])
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintln(out, "\nattempts")
			for _, at := range attempts {
				who := string(at.Kind)
				if at.Operator != "" {
					who += " by " + at.Operator
				}
				fmt.Fprintf(out, "  %s  %-16s %s %s%s%s\n", localTime(at.At, z), who, at.VerifyStatus, at.ApplyStatus,
					suffix(at.Detail), keySuffix(at.VerifyKey))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func suffix(s string) string {
	if s == "" {
		return ""
	}
	return " — " + s
}

func keySuffix(k string) string {
	if k == "" {
		return ""
	}
	return " [" + k + "]"
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
				detail := cmp.Or(r.Err, r.Detail)
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

func newNotifyPruneCmd(a *app) *cobra.Command {
	var rejected, asJSON bool
	var before string
	cmd := &cobra.Command{
		Use:   "prune --rejected --before D",
		Short: "Delete old stored callbacks that never verified (admin)",
		Long: fmt.Sprintf(`Prune deletes the stored callbacks received before D that never verified:
rejected (a bad signature, a body cut short) or refused from outside
[serve] allowed_cidrs, with their attempts, and the counts of callbacks over the
per-sender cap from before D. A callback that verified is never deleted, whatever
became of it. D must be at least %d days ago: a rejection caused on our side (a
key not yet updated) stays replayable until it has been fixed. Admin only;
audited with what was removed. SQLite reuses the freed space; the file does not
shrink.`, int(ops.PruneKeep.Hours()/24)),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !rejected {
				return usagef("give --rejected: only callbacks that never verified can be pruned")
			}
			if before == "" {
				return usagef("--before D is required")
			}
			svc, err := a.service()
			if err != nil {
				return err
			}
			at, err := parseDay("before", before, svc.Zone())
			if err != nil {
				return err
			}
			p, err := svc.PruneRejected(cmd.Context(), at)
			if errors.Is(err, ops.ErrPruneTooRecent) {
				return usageError{err}
			}
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), p)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "removed %d rejected callback(s) (%d bytes raw) and %d overflow count(s) from before %s\n",
				p.Notifications, p.Bytes, p.Overflow, localTime(at, svc.Zone()))
			return nil
		},
	}
	cmd.Flags().BoolVar(&rejected, "rejected", false, "prune callbacks that never verified (the only kind that can be pruned)")
	cmd.Flags().StringVar(&before, "before", "", "received before this date (YYYY-MM-DD) or time")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
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
