package cli

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"
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
	cmd.AddCommand(newReconRunCmd(a), newReconFundsCmd(a), newReconShowCmd(a), newReconDiffCmd(a), newReconResolveCmd(a),
		newReconImportResolutionsCmd(a))
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
	return newReconDayCmd(a, "run --channel alipay|wechat [--date YYYY-MM-DD] [--bill FILE]",
		"Reconcile one channel's business day (default yesterday)",
		`Reconcile downloads the channel's trade bill for the date (or reads --bill, a file
downloaded from the platform's web console), checks it against its own totals, and
matches every line against the local orders and refunds of the day and the callback
log. With a contracted rate ([recon] fee_rate_alipay, fee_rate_wechat), a line whose
fee is more than a fen off the rate's is FEE_MISMATCH. Findings are not failures:
the exit code is 0 whenever the run completes, and 1 only when it could not (a bad
bill saves nothing).`,
		"reconcile from this bill file instead of downloading it",
		func(s *ops.Service, ctx context.Context, req ops.ReconRequest, progress func(ops.ReconProgress)) (store.Run, error) {
			batchGC()
			return s.RunRecon(ctx, req, progress)
		})
}

// batchGC halves the collector's headroom (GOGC=50) for the rest of a
// one-shot `recon run` or `recon funds`, unless GOGC says otherwise. Most of
// a large day's heap lives to the end (the bill's keys, the index, the fund
// run's items), and what the bill's parse leaves behind waited for a heap
// twice the live one: at ten million lines the trade run touched 170 MB
// more memory and the fund run 500 MB, and on a VM that hands its free
// memory back to the host, fresh memory is slow (bench/README.md, "past the
// page cache", "recon funds at ten million movements"). The console and
// the endpoint keep the default.
func batchGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
}

// newReconDayCmd is a command that reconciles one channel's business day
// from a bill (recon run, recon funds) and prints the run.
func newReconDayCmd(a *app, use, short, long, billHelp string,
	reconcile func(*ops.Service, context.Context, ops.ReconRequest, func(ops.ReconProgress)) (store.Run, error)) *cobra.Command {
	var channel, date, bill string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long:  long,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := a.service()
			if err != nil {
				return err
			}
			ch, day, err := channelAndDay(channel, date, svc.Zone(), time.Now())
			if err != nil {
				return err
			}
			progress, done := progressLine(cmd, asJSON)
			defer done()
			run, err := reconcile(svc, cmd.Context(), ops.ReconRequest{Channel: ch, Day: day, BillFile: bill}, progress)
			if err != nil {
				return err
			}
			return printRun(cmd, svc, run, asJSON)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&channel, "channel", "", "alipay or wechat (required)")
	fl.StringVar(&date, "date", "", "business date, YYYY-MM-DD (default yesterday)")
	fl.StringVar(&bill, "bill", "", billHelp)
	fl.BoolVar(&asJSON, "json", false, "print the run and its findings as JSON")
	_ = cmd.MarkFlagRequired("channel")
	return cmd
}

// progressLine shows a run's progress on one line of a terminal's stderr
// (nothing when stderr is not a terminal, or for --json); done clears it.
func progressLine(cmd *cobra.Command, asJSON bool) (progress func(ops.ReconProgress), done func()) {
	f, ok := cmd.ErrOrStderr().(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) || asJSON {
		return func(ops.ReconProgress) {}, func() {}
	}
	return func(p ops.ReconProgress) {
		if p.Message != "" {
			fmt.Fprintf(f, "\r\033[K%-8s %s", p.Stage, p.Message)
		} else {
			fmt.Fprintf(f, "\r\033[K%-8s %d", p.Stage, p.Done)
		}
	}, func() { fmt.Fprint(f, "\r\033[K") }
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

// runJSON is a run as `recon run|funds|show --json` print it: the run, its
// findings each with how it changed since the run before, and the change
// counts.
type runJSON struct {
	store.Run
	Findings []findingJSON `json:"findings"`
	Changes  changesJSON   `json:"changes"`
}

type findingJSON struct {
	store.Finding
	Change ops.Change `json:"change"`
}

type changesJSON struct {
	// FromRun is the run compared with; 0 when this is the day's first.
	FromRun int64              `json:"from_run"`
	Summary string             `json:"summary"`
	Counts  map[ops.Change]int `json:"counts"`
	// Gone are the earlier run's findings this run no longer has.
	Gone []store.Finding `json:"gone"`
}

func printRun(cmd *cobra.Command, svc *ops.Service, run store.Run, asJSON bool) error {
	d, err := svc.DiffRuns(cmd.Context(), 0, run.ID)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if asJSON {
		j := runJSON{Run: run, Findings: []findingJSON{}, Changes: changesJSON{FromRun: d.From.ID, Summary: d.Summary(), Counts: d.Counts, Gone: []store.Finding{}}}
		for _, c := range d.Changes {
			if c.Change == ops.ChangeGone {
				j.Changes.Gone = append(j.Changes.Gone, c.Finding)
			} else {
				j.Findings = append(j.Findings, findingJSON{c.Finding, c.Change})
			}
		}
		return printJSON(out, j)
	}
	writeRunSummary(out, run, svc.Zone())
	if d.From.ID != 0 {
		fmt.Fprintf(out, "changes since run %d: %s\n", d.From.ID, d.Summary())
	}
	n := len(d.Changes) - d.Counts[ops.ChangeGone]
	if n == 0 {
		fmt.Fprintln(out, "\nno findings: every line and order matched")
		return nil
	}
	fmt.Fprintf(out, "\nfindings (%d)\n", n)
	return writeFindingTable(out, d.Changes, false)
}

// writeFindingTable lists findings with their change mark (+ new, = still
// open, ✓ resolved, - gone); gone ones only when withGone.
func writeFindingTable(w io.Writer, changes []ops.FindingChange, withGone bool) error {
	tw := newTable(w)
	fmt.Fprintln(tw, "CHG\tID\tCATEGORY\tSEVERITY\tREFERENCE\tLOCAL\tPLATFORM\tSTATE\tDETAIL")
	for _, c := range changes {
		if c.Change == ops.ChangeGone && !withGone {
			continue
		}
		f := c.Finding
		state := f.Resolution
		if state == "" {
			state = "open"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Change.Mark(), f.ID, f.Category, f.Severity,
			dash(cmp.Or(f.OutTradeNo, f.OutRequestNo, f.FlowNo)), f.LocalAmount, f.PlatformAmount, state, truncate(f.Detail, 90))
	}
	return tw.Flush()
}

func writeRunSummary(w io.Writer, run store.Run, zone *time.Location) {
	kind := "run"
	if run.Kind == store.BillFunds {
		kind = "fund run"
	}
	fmt.Fprintf(w, "%s %d  %s %s  by %s at %s\n", kind, run.ID, run.Channel, run.Day, run.Operator, localTime(run.FinishedAt, zone))
	if b := run.Bill; b != nil {
		fmt.Fprintf(w, "bill   %s (%s, %s lines) sha256 %s\n", b.FileName, b.Source, strconv.Itoa(b.Lines), b.SHA256)
		if st, co := b.FundStated, b.FundComputed; st != nil && co != nil {
			fmt.Fprintf(w, "       stated   %d in %s, %d out %s\n", st.Income, st.IncomeAmount, st.Expense, st.ExpenseAmount)
			fmt.Fprintf(w, "       computed %d in %s, %d out %s, net %s\n", co.Income, co.IncomeAmount, co.Expense, co.ExpenseAmount, co.Net())
		} else {
			fmt.Fprintf(w, "       stated   %d payments %s, %d refunds, net %s\n", b.Stated.Payments, b.Stated.PaymentAmount, b.Stated.Refunds, b.Stated.Net)
			fmt.Fprintf(w, "       computed %d payments %s, %d refunds %s, net %s\n", b.Computed.Payments, b.Computed.PaymentAmount, b.Computed.Refunds, b.Computed.RefundAmount, b.Computed.Net)
		}
	}
	if run.Kind == store.BillFunds {
		fmt.Fprintf(w, "orders %d   net movement %s   withdrawals %s\n", run.Orders, run.Net.Yuan(), run.Counts[string(recon.Withdrawal)].Amount.Yuan())
	} else {
		fmt.Fprintf(w, "orders %d   fees %s   net settlement %s\n", run.Orders, run.Fees.Yuan(), run.Net.Yuan())
	}
	fmt.Fprintln(w, feeLine(run))
	fmt.Fprintln(w)
	tw := newTable(w)
	fmt.Fprintln(tw, "CATEGORY\tCOUNT\tAMOUNT\tSEVERITY")
	for _, cat := range recon.CategoriesOf(recon.RunKind(run.Kind)) {
		t := run.Counts[string(cat)]
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", cat, t.Count, t.Amount.Yuan(), cat.Severity())
	}
	_ = tw.Flush()
	if len(run.Settled) > 0 {
		fmt.Fprintf(w, "settled from earlier days: %d\n", len(run.Settled))
	}
	if run.Kind == store.BillFunds {
		for _, t := range recon.Vocabulary {
			fmt.Fprintf(w, "%s = %s: %s\n", t.Word, t.Category, t.Meaning)
		}
	}
}

// feeLine puts the fees charged beside those expected.
func feeLine(run store.Run) string {
	if run.ExpectedFees == nil {
		return fmt.Sprintf("fees   charged %s; none expected (no [recon] fee_rate_%s)", run.Fees.Yuan(), run.Channel)
	}
	from := "at rate " + run.FeeRate
	if run.Kind == store.BillFunds {
		from = "by the trade bill"
		if run.FeeRate != "" {
			from += " and rate " + run.FeeRate
		}
	}
	return fmt.Sprintf("fees   charged %s, expected %s %s (difference %s)", run.Fees.Yuan(), run.ExpectedFees.Yuan(), from, (run.Fees - *run.ExpectedFees).Yuan())
}
