package cli

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/recon"
	"github.com/paydesk/paydesk/store"
)

func newReconCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "recon", Short: "Reconcile a day's bill against local orders and the callback log"}
	cmd.AddCommand(newReconRunCmd(a), newReconShowCmd(a), newReconResolveCmd(a))
	return cmd
}

// channelAndDay reads --channel and --date (default yesterday in the zone).
func channelAndDay(channel, date string, zone *time.Location, now time.Time) (gateway.Channel, time.Time, error) {
	ch, err := gateway.ParseChannel(channel)
	if err != nil {
		return "", time.Time{}, usageError{fmt.Errorf("--channel: %w", err)}
	}
	if date == "" {
		d, _ := gateway.Day(now.In(zone).AddDate(0, 0, -1), zone)
		return ch, d, nil
	}
	d, err := time.ParseInLocation(time.DateOnly, date, zone)
	if err != nil {
		return "", time.Time{}, usagef("--date %q: want YYYY-MM-DD", date)
	}
	return ch, d, nil
}

func newReconRunCmd(a *app) *cobra.Command {
	var channel, date, bill string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "run --channel alipay|wechat [--date YYYY-MM-DD] [--bill FILE]",
		Short: "Reconcile one channel's business day (default yesterday)",
		Long: `Reconcile downloads the channel's trade bill for the date (or reads --bill, a file
downloaded from the platform's web console), checks it against its own totals, and
matches every line against the local orders and refunds of the day and the callback
log. Findings are not failures: the exit code is 0 whenever the run completes, and
1 only when it could not (a bad bill saves nothing).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := a.service()
			if err != nil {
				return err
			}
			ch, day, err := channelAndDay(channel, date, svc.Zone(), time.Now())
			if err != nil {
				return err
			}
			progress := func(ops.ReconProgress) {}
			if f, ok := cmd.ErrOrStderr().(*os.File); ok && term.IsTerminal(int(f.Fd())) && !asJSON {
				progress = func(p ops.ReconProgress) {
					if p.Message != "" {
						fmt.Fprintf(f, "\r\033[K%-8s %s", p.Stage, p.Message)
					} else {
						fmt.Fprintf(f, "\r\033[K%-8s %d", p.Stage, p.Done)
					}
				}
				defer fmt.Fprint(f, "\r\033[K")
			}
			run, err := svc.RunRecon(cmd.Context(), ops.ReconRequest{Channel: ch, Day: day, BillFile: bill}, progress)
			if err != nil {
				return err
			}
			return printRun(cmd, svc, run, asJSON)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&channel, "channel", "", "alipay or wechat (required)")
	fl.StringVar(&date, "date", "", "business date, YYYY-MM-DD (default yesterday)")
	fl.StringVar(&bill, "bill", "", "reconcile from this bill file instead of downloading it")
	fl.BoolVar(&asJSON, "json", false, "print the run and its findings as JSON")
	_ = cmd.MarkFlagRequired("channel")
	return cmd
}

func newReconShowCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show [RUN_ID]",
		Short: "Show a reconciliation run (default the latest)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := a.service()
			if err != nil {
				return err
			}
			var run store.Run
			if len(args) == 1 {
				id, perr := strconv.ParseInt(args[0], 10, 64)
				if perr != nil || id <= 0 {
					return usagef("RUN_ID %q: want a positive number", args[0])
				}
				run, err = svc.ReconRun(cmd.Context(), id)
			} else {
				run, err = svc.LatestRecon(cmd.Context(), "")
			}
			if err != nil {
				return err
			}
			return printRun(cmd, svc, run, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newReconResolveCmd(a *app) *cobra.Command {
	var note string
	var ignore bool
	cmd := &cobra.Command{
		Use:   "resolve FINDING_ID --note TEXT [--ignore]",
		Short: "Mark a finding resolved (or ignored) with a note",
		Args:  exactArgs(1, "FINDING_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return usagef("FINDING_ID %q: want a positive number", args[0])
			}
			svc, err := a.service()
			if err != nil {
				return err
			}
			resolution := "resolved"
			if ignore {
				resolution = "ignored"
			}
			f, err := svc.ResolveFinding(cmd.Context(), id, resolution, note)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "finding %d (%s %s) %s by %s: %s\n", f.ID, f.Category, f.OutTradeNo, f.Resolution, f.Resolver, gateway.MaskBuyerIDs(f.Note))
			return nil
		},
	}
	cmd.Flags().StringVar(&note, "note", "", "why (required)")
	cmd.Flags().BoolVar(&ignore, "ignore", false, "mark it ignored (not a problem) instead of resolved")
	return cmd
}

func printRun(cmd *cobra.Command, svc *ops.Service, run store.Run, asJSON bool) error {
	findings, err := svc.Findings(cmd.Context(), store.FindingFilter{RunID: run.ID})
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if asJSON {
		return printJSON(out, struct {
			store.Run
			Findings []store.Finding `json:"findings"`
		}{run, findings})
	}
	writeRunSummary(out, run, svc.Zone())
	if len(findings) == 0 {
		fmt.Fprintln(out, "\nno findings: every line and order matched")
		return nil
	}
	fmt.Fprintf(out, "\nfindings (%d)\n", len(findings))
	tw := newTable(out)
	fmt.Fprintln(tw, "ID\tCATEGORY\tSEVERITY\tOUT_TRADE_NO\tLOCAL\tPLATFORM\tSTATE\tDETAIL")
	for _, f := range findings {
		state := f.Resolution
		if state == "" {
			state = "open"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.ID, f.Category, f.Severity, dash(firstNonEmpty(f.OutTradeNo, f.OutRequestNo)),
			f.LocalAmount, f.PlatformAmount, state, truncate(f.Detail, 90))
	}
	return tw.Flush()
}

func writeRunSummary(w io.Writer, run store.Run, zone *time.Location) {
	fmt.Fprintf(w, "run %d  %s %s  by %s at %s\n", run.ID, run.Channel, run.Day, run.Operator, localTime(run.FinishedAt, zone))
	if b := run.Bill; b != nil {
		fmt.Fprintf(w, "bill   %s (%s, %s lines) sha256 %s\n", b.FileName, b.Source, strconv.Itoa(b.Lines), b.SHA256)
		fmt.Fprintf(w, "       stated   %d payments %s, %d refunds, net %s\n", b.Stated.Payments, b.Stated.PaymentAmount, b.Stated.Refunds, b.Stated.Net)
		fmt.Fprintf(w, "       computed %d payments %s, %d refunds %s, net %s\n", b.Computed.Payments, b.Computed.PaymentAmount, b.Computed.Refunds, b.Computed.RefundAmount, b.Computed.Net)
	}
	fmt.Fprintf(w, "orders %d   fees %s   net settlement %s\n\n", run.Orders, run.Fees.Yuan(), run.Net.Yuan())
	tw := newTable(w)
	fmt.Fprintln(tw, "CATEGORY\tCOUNT\tAMOUNT\tSEVERITY")
	for _, cat := range recon.Categories {
		t := run.Counts[string(cat)]
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", cat, t.Count, t.Amount.Yuan(), cat.Severity())
	}
	_ = tw.Flush()
	if len(run.Settled) > 0 {
		fmt.Fprintf(w, "settled from earlier days: %d\n", len(run.Settled))
	}
}
