package ops

import (
	"context"
	"fmt"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/recon"
	"github.com/paydesk/paydesk/store"
)

// RunFundRecon reconciles one channel's account movements of a business
// day (Alipay 账务明细, WeChat 资金账单 of the BASIC account; downloaded, or
// the file ReconRequest.BillFile names) against the day's bookings: the
// lines of the day's kept trade bill (the current trade run's, else the
// latest fetched), and paydesk's own payments and refunds of the day. The
// fund bill must agree with its own totals, or nothing is saved. The run
// and its findings are saved in one transaction, as trade runs are; a
// re-run replaces the day's fund findings and keeps their resolutions.
func (s *Service) RunFundRecon(ctx context.Context, req ReconRequest, progress func(ReconProgress)) (store.Run, error) {
	day, _ := gateway.Day(req.Day, s.zone)
	target := fmt.Sprintf("%s %s funds", req.Channel, day.Format(store.DayFormat))
	if err := s.allow(ctx, ActReconcile, target); err != nil {
		return store.Run{}, err
	}
	if progress == nil {
		progress = func(ReconProgress) {}
	}
	run, trade, err := s.runFunds(ctx, req.Channel, day, req.BillFile, progress)
	detail := ""
	if err == nil {
		from := "paydesk's records only (no trade bill kept for the day)"
		if trade.ID != 0 {
			from = fmt.Sprintf("trade bill %s (sha256 %s) and paydesk's records", trade.FileName, trade.SHA256)
		}
		detail = fmt.Sprintf("fund run %d: %d movements against %s; %s", run.ID, run.Lines, from, countsSummaryOf(run.Counts, recon.FundCategories))
	}
	s.auditResult(ctx, ActReconcile, target, detail, err)
	return run, err
}

// fundChunk is how many movements travel together from the parser.
const fundChunk = 4096

// fundTextRows is how long the fund run's bill readers (its movements',
// the trade bill's it expects bookings from) keep a row's strings before
// they write them over (gateway.BillOptions.TextRows), in rows: longer than
// the run holds any, from its parse to its match (the chunk the parser
// fills, those queued, the one being matched). The matcher copies what it
// keeps (recon.TestFundMatcherCopiesWhatItKeeps).
const fundTextRows = 16 * fundChunk

var (
	_ [fundTextRows - (chunkQueue+2)*fundChunk]struct{}
	_ [fundTextRows - (chunkQueue+2)*chunkLines]struct{}
)

func (s *Service) runFunds(ctx context.Context, ch gateway.Channel, day time.Time, billPath string, progress func(ReconProgress)) (_ store.Run, trade store.Bill, err error) {
	started := s.now()
	dayStr := day.Format(store.DayFormat)
	progress(ReconProgress{Stage: StageDownload, Message: "getting the fund bill"})
	// A fund bill file is parsed while it is kept, as a trade bill is.
	rb, err := s.openRunBill(ctx, ch, day, store.BillFunds, billPath, progress)
	if err != nil {
		return store.Run{}, trade, err
	}
	defer func() { rb.close(ctx, s, err) }()
	fr, err := s.openFundBillOf(ctx, ch, day, rb.bill, rb.f, fundTextRows)
	if err != nil {
		return store.Run{}, trade, err
	}

	// The movements are parsed while the day's bookings load; a bad row,
	// or the bill disagreeing with its own totals, fails the run.
	parse := parseChunks(ctx, fr.Next, fundChunk, func(int) {}, func(n int, err error) {
		if err == nil {
			progress(ReconProgress{Stage: StageParse, Done: int64(n), Total: int64(n), Message: fmt.Sprintf("%d movements, totals check out", n)})
		}
	})
	defer parse.stop()

	// Money moves for a refund when it is carried out, whichever day a
	// trade bill dates its line: the day's refunds are those that
	// succeeded on it, or went ABNORMAL on it (the platform took the money
	// and the buyer's bank refused it; its later payout moves nothing).
	in, orders, err := s.reconInput(ctx, ch, day, gateway.RefundsDatedAtSuccess, s.store.RefundsMovedBetween, progress)
	if err != nil {
		return store.Run{}, trade, err
	}
	trade, ok, err := s.store.TradeBillOf(ctx, ch, dayStr)
	if err != nil {
		return store.Run{}, trade, err
	}
	fin := recon.FundInput{Channel: ch, Day: in.Day, Zone: s.zone, FeeRate: s.feeRates[ch], EachOrder: in.EachOrder, Refunds: in.Refunds,
		LookupOrder: in.LookupOrder, LookupRefund: in.LookupRefund, Bookings: trade.Lines,
		LookupTrade: func(no string) (recon.Order, bool) {
			o, err := s.store.GetOrderByTrade(ctx, ch, no)
			if err != nil {
				return recon.Order{}, false
			}
			return in.LookupOrder(o.OutTradeNo)
		}}
	m, err := recon.NewFundMatcher(fin)
	if err != nil {
		return store.Run{}, trade, err
	}
	progress(ReconProgress{Stage: StageLoad, Done: int64(*orders), Message: fmt.Sprintf("%d orders", *orders)})
	if ok {
		if err := s.expectTradeBill(ctx, trade, m, progress); err != nil {
			return store.Run{}, trade, fmt.Errorf("the %s trade bill of %s, which the fund run expects bookings from: %w", ch, dayStr, err)
		}
	}
	lines := 0
	for chunk := range parse.chunks {
		if err := m.Movements(chunk); err != nil {
			return store.Run{}, trade, err
		}
		lines += len(chunk)
		parse.spare(chunk)
		progress(ReconProgress{Stage: StageMatch, Done: int64(lines)})
	}
	if err := parse.wait(); err != nil {
		return store.Run{}, trade, err
	}
	res := m.Finish()
	bill, durable, err := rb.kept(store.BillFunds)
	if err != nil {
		return store.Run{}, trade, err
	}

	progress(ReconProgress{Stage: StageSave, Message: fmt.Sprintf("%d findings", len(res.Findings))})
	stated, computed := fr.Stated(), fr.Computed()
	bill.FundStated, bill.FundComputed, bill.Lines, bill.Account = &stated, &computed, lines, billAccount(fr)
	run := store.Run{Channel: ch, Day: dayStr, Kind: store.BillFunds, Operator: s.operator.Name, StartedAt: started, FinishedAt: s.now(),
		Orders: *orders, Lines: lines, Counts: map[string]store.CategoryTotal{}, Fees: res.ChargedFees, Net: computed.Net()}
	if ok || !s.feeRates[ch].IsZero() {
		run.ExpectedFees = &res.ExpectedFees
	}
	if rate := s.feeRates[ch]; !rate.IsZero() {
		run.FeeRate = rate.String()
	}
	for cat, t := range res.Counts {
		run.Counts[string(cat)] = store.CategoryTotal{Count: t.Count, Amount: t.Amount}
	}
	if err := durable(); err != nil {
		return store.Run{}, trade, fmt.Errorf("keep the fund bill: %w", err)
	}
	run, err = s.store.SaveRun(context.WithoutCancel(ctx), bill, run, storeFindings(res.Findings, 0))
	if err != nil {
		return store.Run{}, trade, err
	}
	progress(ReconProgress{Stage: StageSave, Done: 1, Total: 1, Message: fmt.Sprintf("run %d saved", run.ID)})
	run, err = s.store.GetRun(ctx, run.ID)
	return run, trade, err
}

// expectTradeBill feeds the kept trade bill's lines to the fund matcher as
// the day's bookings, checking that the file is still the one kept. The
// bill is parsed on a goroutine of its own while the matcher takes the
// lines already parsed, as a trade run's bill is: on a day of five million
// lines the two took 2.3 and 1.4 s one after the other.
func (s *Service) expectTradeBill(ctx context.Context, b store.Bill, m *recon.FundMatcher, progress func(ReconProgress)) error {
	br, done, err := s.openKeptBill(b, fundTextRows)
	if err != nil {
		return err
	}
	parse := parseChunks(ctx, br.Next, chunkLines, func(int) {}, nil)
	defer parse.stop() // each return below has stopped or drained it before done closes the file
	n := 0
	for chunk := range parse.chunks {
		if err := m.Expect(chunk); err != nil {
			parse.stop()
			_ = done(false)
			return err
		}
		n += len(chunk)
		parse.spare(chunk)
	}
	if err := parse.wait(); err != nil {
		_ = done(false)
		return err
	}
	progress(ReconProgress{Stage: StageLoad, Message: fmt.Sprintf("%d trade bill lines (%s)", n, b.FileName)})
	return done(true)
}
