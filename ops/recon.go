package ops

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/internal/directio"
	"github.com/paydesk/paydesk/recon"
	"github.com/paydesk/paydesk/store"
)

// ReconRequest asks for one reconciliation.
type ReconRequest struct {
	Channel gateway.Channel
	// Day is the business date (any time on it, in the business zone).
	Day time.Time
	// BillFile is a bill to reconcile from; empty downloads it from the
	// platform.
	BillFile string
}

// Stages of a run, in order.
const (
	StageDownload = "download"
	StageParse    = "parse"
	StageLoad     = "load"
	StageMatch    = "match"
	StageSave     = "save"
)

// ReconProgress reports a run's progress; Total is 0 when unknown.
type ReconProgress struct {
	Stage   string
	Done    int64
	Total   int64
	Message string
}

// spoolMemory is how many bytes of parsed lines wait in memory for the
// day's orders to be indexed (a million-line bill's lines fit); more wait
// in a spill file.
const spoolMemory = 128 << 20

// chunkLines is how many parsed lines travel together from the parser to
// the matcher: big enough for the matcher's batched look-ups, small enough
// that a buffered handful is a few MB.
const chunkLines = 4096

// RunRecon reconciles one channel's business day: the bill (downloaded or
// from a file) against the local orders and refunds of the day and the
// callback log. The bill must agree with its own totals, or the run fails
// and saves nothing. The run and its findings are saved in one transaction;
// re-running a day replaces its findings and keeps their resolutions.
func (s *Service) RunRecon(ctx context.Context, req ReconRequest, progress func(ReconProgress)) (store.Run, error) {
	day, _ := gateway.Day(req.Day, s.zone)
	target := fmt.Sprintf("%s %s", req.Channel, day.Format(store.DayFormat))
	if err := s.allow(ctx, ActReconcile, target); err != nil {
		return store.Run{}, err
	}
	if progress == nil {
		progress = func(ReconProgress) {}
	}
	run, err := s.runRecon(ctx, req.Channel, day, req.BillFile, progress)
	detail := ""
	if err == nil {
		detail = fmt.Sprintf("run %d: %d lines, %d orders, %s", run.ID, run.Lines, run.Orders, countsSummary(run.Counts))
	}
	s.auditResult(ctx, ActReconcile, target, detail, err)
	return run, err
}

func countsSummary(c map[string]store.CategoryTotal) string {
	return countsSummaryOf(c, recon.Categories)
}

// countsSummaryOf lists the categories (of cats) with items, and their
// counts; empty when none has any.
func countsSummaryOf(c map[string]store.CategoryTotal, cats []recon.Category) string {
	var parts []string
	for _, cat := range cats {
		if t := c[string(cat)]; t.Count > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", cat, t.Count))
		}
	}
	return strings.Join(parts, ", ")
}

func (s *Service) runRecon(ctx context.Context, ch gateway.Channel, day time.Time, billPath string, progress func(ReconProgress)) (_ store.Run, err error) {
	started := s.now()
	dayStr := day.Format(store.DayFormat)
	format, err := gateway.LookupBillFormat(ch, gateway.TradeBill)
	if err != nil {
		return store.Run{}, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// The day's orders load (and their index is built) while the bill is
	// kept and parsed: the two are independent, keeping the bill waits on
	// the disk, and each is about half the run on a million lines. Lines
	// parsed before the orders are indexed wait in a spool.
	spool := recon.NewLineSpool(func() (recon.SpillFile, error) { return s.spillFile(ch) }, spoolMemory)
	loading := make(chan loadedMatcher, 1)
	go func() {
		var lm loadedMatcher
		refundsOfDay := s.store.RefundsBetween
		if format.RefundDating == gateway.RefundsDatedAtRequest {
			refundsOfDay = s.store.RefundsRequestedBetween
		}
		if lm.in, lm.orders, lm.err = s.reconInput(ctx, ch, day, format.RefundDating, refundsOfDay, progress); lm.err == nil {
			lm.in.Spool = spool
			lm.m, lm.err = recon.NewMatcher(lm.in)
		}
		loading <- lm
	}()
	// On an early return the load is stopped and waited for, so it never
	// reads the store or reports after RunRecon returns, and whatever was
	// spilled is removed.
	var loaded *loadedMatcher
	defer func() {
		if loaded == nil {
			cancel()
			lm := <-loading
			loaded = &lm
		}
		if loaded.m != nil {
			loaded.m.Release()
		}
		spool.Close()
	}()

	progress(ReconProgress{Stage: StageDownload, Message: "getting the bill"})
	// A bill file is parsed while it is kept (bill_local.go); a download
	// is kept first and parsed from the workspace.
	rb, err := s.openRunBill(ctx, ch, day, store.BillTrade, billPath, progress)
	if err != nil {
		return store.Run{}, err
	}
	defer func() { rb.close(ctx, s, err) }()
	br, _, err := s.openBillOf(ctx, ch, day, rb.bill, rb.f)
	if err != nil {
		return store.Run{}, err
	}

	// A bill that proves itself wrong (a repeated row, another merchant or
	// day, past a cap) stops the load at once: its error is the run's.
	parse := parseChunks(ctx, br.Next, chunkLines, func(n int) {
		if n%(64*chunkLines) == 0 {
			progress(ReconProgress{Stage: StageParse, Done: int64(n)})
		}
	}, func(n int, err error) {
		if err != nil {
			cancel()
			return
		}
		progress(ReconProgress{Stage: StageParse, Done: int64(n), Total: int64(n), Message: fmt.Sprintf("%d lines, totals check out", n)})
	})
	// billFirst prefers the bill's own error to the load's "canceled".
	billFirst := func(err error) error { return cmp.Or(parse.failure(), err) }
	// Stopped before the bill file closes (defers run last-in first-out)
	// and before RunRecon returns.
	defer parse.stop()

	// Lines go to the spool until the matcher is ready, which then takes
	// them, and to the matcher from then on.
	var m *recon.Matcher
	var orders *int
	lines := 0
	for parsing, waiting := parse.chunks, loading; parsing != nil || m == nil; {
		select {
		case lm := <-waiting:
			loaded, waiting = &lm, nil
			if lm.err != nil {
				return store.Run{}, billFirst(lm.err)
			}
			m, orders = lm.m, lm.orders
			progress(ReconProgress{Stage: StageLoad, Done: int64(*orders), Total: int64(*orders), Message: fmt.Sprintf("%d orders", *orders)})
			if err := m.TakeLines(spool); err != nil {
				return store.Run{}, err
			}
		case chunk, ok := <-parsing:
			if !ok {
				parsing = nil
				continue
			}
			if m == nil {
				err = spool.Add(chunk)
			} else {
				err = m.Lines(chunk, nil)
			}
			if err != nil {
				return store.Run{}, err
			}
			lines += len(chunk)
			parse.spare(chunk)
			progress(ReconProgress{Stage: StageMatch, Done: int64(lines)})
		}
	}
	if err := parse.wait(); err != nil {
		return store.Run{}, err
	}
	res, err := m.Close()
	if err != nil {
		return store.Run{}, err
	}
	in := loaded.in

	bill, durable, err := rb.kept(store.BillTrade)
	if err != nil {
		return store.Run{}, err
	}
	progress(ReconProgress{Stage: StageSave, Message: fmt.Sprintf("%d findings", len(res.Findings))})
	bill.Stated, bill.Computed, bill.Lines, bill.Account = br.Stated(), br.Computed(), lines, billAccount(br)
	carry, err := json.Marshal(res.Carry)
	if err != nil {
		return store.Run{}, err
	}
	run := store.Run{
		Channel: ch, Day: dayStr, Kind: store.BillTrade, Operator: s.operator.Name, StartedAt: started, FinishedAt: s.now(),
		Orders: *orders, Lines: lines, Counts: map[string]store.CategoryTotal{}, Fees: res.Fees, Net: res.Net,
		Carry: carry, Settled: storeFindings(res.Settled, 0), Notices: storeFindings(res.Notices, 0),
	}
	if res.FeeChecked {
		run.ExpectedFees, run.FeeRate = &res.ExpectedFees, in.FeeRate.String()
	}
	for cat, t := range res.Counts {
		run.Counts[string(cat)] = store.CategoryTotal{Count: t.Count, Amount: t.Amount}
	}
	if err := durable(); err != nil {
		return store.Run{}, fmt.Errorf("keep the bill: %w", err)
	}
	run, err = s.store.SaveRunSettling(context.WithoutCancel(ctx), bill, run, storeFindings(res.Findings, 0), storeFindings(res.Settled, 0))
	if err != nil {
		return store.Run{}, err
	}
	progress(ReconProgress{Stage: StageSave, Done: 1, Total: 1, Message: fmt.Sprintf("run %d saved", run.ID)})
	return s.store.GetRun(ctx, run.ID)
}

// reconInput fills recon.Input for (ch, day) from the store; see recon's
// "Filling Input". orders counts the orders streamed, once the matcher has
// read them.
// refundLister lists a channel's refunds of a business day [start, end), by
// one of the store's rules of what dates a refund.
type refundLister func(ctx context.Context, ch gateway.Channel, start, end time.Time) ([]store.Refund, error)

func (s *Service) reconInput(ctx context.Context, ch gateway.Channel, day time.Time, dating gateway.RefundDating, refundsOfDay refundLister, progress func(ReconProgress)) (recon.Input, *int, error) {
	start, end := gateway.Day(day, s.zone)
	dayStr := day.Format(store.DayFormat)
	// Notifications and duplicates can arrive up to a day after the
	// payment; a week either side covers every retry schedule.
	rejected, err := s.store.FailedNotificationOrders(ctx, start.AddDate(0, 0, -7))
	if err != nil {
		return recon.Input{}, nil, err
	}
	dups, err := s.store.DuplicatePaymentsPaidBetween(ctx, start.AddDate(0, 0, -7), end.AddDate(0, 0, 7))
	if err != nil {
		return recon.Input{}, nil, err
	}
	extra := map[string][]recon.Payment{}
	for _, d := range dups {
		extra[d.OutTradeNo] = append(extra[d.OutTradeNo], recon.Payment{Channel: d.Channel, TradeNo: d.TradeNo, Amount: d.Amount, PaidAt: d.PaidAt})
	}
	toRecon := func(o store.PaidOrder) recon.Order {
		return recon.Order{OutTradeNo: o.OutTradeNo, Channel: o.Channel, Amount: o.Amount, Status: recon.OrderStatus(o.Status),
			TradeNo: o.TradeNo, CreatedAt: o.CreatedAt, PaidAt: o.PaidAt, PaidVia: string(o.PaidVia),
			NotifyVerified: o.NotifyVerified, NotifyRejected: rejected[o.OutTradeNo], ExtraTrades: extra[o.OutTradeNo]}
	}
	// An order read by number (not by the day's scan) gets its
	// notification fact the same way, one look-up each: lines name few of
	// them.
	byNumber := func(o store.Order) (recon.Order, error) {
		po := paidOrder(o)
		if o.Status.IsPaid() && o.PaidVia != store.ViaNotify {
			v, err := s.store.VerifiedPaymentNotices(ctx, []string{o.OutTradeNo})
			if err != nil {
				return recon.Order{}, err
			}
			po.NotifyVerified = v[o.OutTradeNo]
		}
		return toRecon(po), nil
	}
	refunds, err := refundsOfDay(ctx, ch, start, end)
	if err != nil {
		return recon.Input{}, nil, err
	}
	suspense, _, err := s.store.SuspenseBefore(ctx, ch, dayStr, s.suspenseDays)
	if err != nil {
		return recon.Input{}, nil, err
	}
	var carried []recon.Finding
	if len(suspense) > 0 {
		if err := json.Unmarshal(suspense, &carried); err != nil {
			return recon.Input{}, nil, fmt.Errorf("suspense carried into %s: %w", dayStr, err)
		}
	}
	count := new(int)
	in := recon.Input{
		Channel: ch, Day: start, Zone: s.zone, Suspense: carried, SuspenseDays: s.suspenseDays, FeeRate: s.feeRates[ch], RefundDating: dating,
		Spill:   func() (recon.SpillFile, error) { return s.spillFile(ch) },
		Refunds: make([]recon.Refund, 0, len(refunds)),
		EachOrder: func(fn func(recon.Order) error) error {
			seen := map[string]bool{}
			err := s.store.EachPaidOrder(ctx, ch, start, end, func(o *store.PaidOrder) error {
				r := toRecon(*o)
				*count++
				if *count%100000 == 0 {
					progress(ReconProgress{Stage: StageLoad, Done: int64(*count)})
				}
				if len(r.ExtraTrades) > 0 {
					seen[strings.Clone(o.OutTradeNo)] = true // o is the scan's until fn returns
				}
				return fn(r)
			})
			if err != nil {
				return err
			}
			// Orders paid another day or on the other channel whose
			// duplicate payment on this channel falls on this day.
			for no, ps := range extra {
				if seen[no] || !duplicateOn(ps, ch, start, end) {
					continue
				}
				o, err := s.store.GetOrder(ctx, no)
				if err != nil {
					continue // a duplicate of an order since deleted: the bill line reports it
				}
				if o.Channel == ch && !o.PaidAt.Before(start) && o.PaidAt.Before(end) {
					continue // streamed above
				}
				r, err := byNumber(o)
				if err != nil {
					return err
				}
				*count++
				if err := fn(r); err != nil {
					return err
				}
			}
			return nil
		},
		LookupOrder: func(no string) (recon.Order, bool) {
			o, err := s.store.GetOrder(ctx, no)
			if err != nil {
				return recon.Order{}, false
			}
			r, err := byNumber(o)
			return r, err == nil
		},
		LookupRefund: func(no string) (recon.Refund, bool) {
			f, err := s.store.GetRefund(ctx, no)
			if err != nil {
				return recon.Refund{}, false
			}
			return toReconRefund(f), true
		},
	}
	for _, f := range refunds {
		in.Refunds = append(in.Refunds, toReconRefund(f))
	}
	return in, count, nil
}

// spillFile is a temporary file for a day too large to match in memory,
// beside the kept bills (the store's disk, not a RAM-backed /tmp), removed
// when the matcher closes it. It is written and read past the page cache
// (internal/directio): through the cache, its pages of memory were a sixth
// of a ten-million-line run.
func (s *Service) spillFile(ch gateway.Channel) (recon.SpillFile, error) {
	dir, err := s.billsDir(ch)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return directio.CreateTemp(dir, ".recon-spill-*")
}

// loadedMatcher is the day's orders loaded into a matcher, with the input
// it was made of.
type loadedMatcher struct {
	m      *recon.Matcher
	in     recon.Input
	orders *int
	err    error
}

func paidOrder(o store.Order) store.PaidOrder {
	return store.PaidOrder{OutTradeNo: o.OutTradeNo, Channel: o.Channel, Amount: o.Amount, Status: o.Status, TradeNo: o.TradeNo,
		PaidVia: o.PaidVia, CreatedAt: o.CreatedAt, PaidAt: o.PaidAt}
}

func duplicateOn(ps []recon.Payment, ch gateway.Channel, start, end time.Time) bool {
	for _, p := range ps {
		if p.Channel == ch && !p.PaidAt.Before(start) && p.PaidAt.Before(end) {
			return true
		}
	}
	return false
}

func toReconRefund(f store.Refund) recon.Refund {
	return recon.Refund{OutRequestNo: f.OutRequestNo, OutTradeNo: f.OutTradeNo, Channel: f.Channel, Amount: f.Amount,
		Status: f.Status, Source: string(f.Source), RefundedAt: f.RefundedAt, RequestedAt: f.RequestedAt(), MovedAt: f.MovedAt()}
}

func storeFindings(fs []recon.Finding, runID int64) []store.Finding {
	out := make([]store.Finding, len(fs))
	for i, f := range fs {
		out[i] = store.Finding{RunID: runID, Channel: f.Channel, FirstDay: f.Day.Format(store.DayFormat), Category: string(f.Category),
			Severity: string(f.Severity), Kind: string(f.Kind), Side: string(f.Side), OutTradeNo: f.OutTradeNo, TradeNo: f.TradeNo,
			OutRequestNo: f.OutRequestNo, FlowNo: f.FlowNo, LocalAmount: f.LocalAmount, PlatformAmount: f.PlatformAmount, LocalStatus: f.LocalStatus,
			PlatformStatus: f.PlatformStatus, NotifyStatus: f.NotifyStatus, BillLine: f.BillLine, Detail: f.Detail}
	}
	return out
}

// ReconRun returns one run with its bill.
func (s *Service) ReconRun(ctx context.Context, id int64) (store.Run, error) {
	if err := s.allow(ctx, ActRead, ""); err != nil {
		return store.Run{}, err
	}
	return s.store.GetRun(ctx, id)
}

// LatestRecon returns the newest run (of a channel, or any when empty).
func (s *Service) LatestRecon(ctx context.Context, ch gateway.Channel) (store.Run, error) {
	if err := s.allow(ctx, ActRead, ""); err != nil {
		return store.Run{}, err
	}
	return s.store.LatestRun(ctx, ch)
}

// ReconRuns lists runs, newest first.
func (s *Service) ReconRuns(ctx context.Context, limit int) ([]store.Run, error) {
	if err := s.allow(ctx, ActRead, ""); err != nil {
		return nil, err
	}
	return s.store.ListRuns(ctx, limit)
}

// Findings lists a run's findings in report order.
func (s *Service) Findings(ctx context.Context, f store.FindingFilter) ([]store.Finding, error) {
	if err := s.allow(ctx, ActRead, ""); err != nil {
		return nil, err
	}
	return s.store.ListFindings(ctx, f)
}

// ResolveFinding records a decision about a finding: resolved (dealt with)
// or ignored (not a problem), with a note saying why.
func (s *Service) ResolveFinding(ctx context.Context, id int64, resolution, note string) (store.Finding, error) {
	target := "finding " + strconv.FormatInt(id, 10)
	if err := s.allow(ctx, ActResolve, target); err != nil {
		return store.Finding{}, err
	}
	note = strings.TrimSpace(note)
	var f store.Finding
	var err error
	switch {
	case resolution != "resolved" && resolution != "ignored":
		err = fmt.Errorf("resolution %q: want resolved or ignored", resolution)
	case note == "":
		err = errors.New("a note is required: say why, for whoever reads the audit log")
	default:
		f, err = s.store.ResolveFinding(ctx, id, resolution, note, s.operator.Name, s.now())
	}
	if err == nil && f.OutTradeNo != "" {
		target = f.OutTradeNo
	}
	s.auditResult(ctx, ActResolve, target, fmt.Sprintf("finding %d %s %s: %s", id, f.Category, resolution, note), err)
	return f, err
}
