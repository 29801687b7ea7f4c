package exports

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/recon"
	"github.com/paydesk/paydesk/store"
)

// Sheets of the fund-flow parts of a report.
const (
	// FundsSheet is the trade run report's sheet for the day's fund run.
	FundsSheet = "Funds"
	// MovementsSheet lists every movement of a fund run's bill.
	MovementsSheet = "Movements"
)

// FundRun is a fund-flow run with its findings.
type FundRun struct {
	Run      store.Run
	Findings []store.Finding
}

// fundReport writes the workbook of a fund-flow run: Summary (the run's
// figures, the fund bill against itself, fees expected beside charged, the
// withdrawals, what 长款 and 短款 mean), Findings, and Movements (every
// movement of the fund bill with its result).
func fundReport(w io.Writer, in Recon, sheetRows int) (Result, error) {
	run := in.Run
	if in.OpenFunds == nil {
		return Result{}, fmt.Errorf("run %d: no way to read its fund bill file", run.ID)
	}
	b, err := newBook(in.Zone, excelize.DocProperties{
		Title:       fmt.Sprintf("Fund reconciliation %s %s", run.Channel, run.Day),
		Subject:     fmt.Sprintf("paydesk fund-flow run %d", run.ID),
		Description: fmt.Sprintf("Fund bill %s (sha256 %s)", run.Bill.FileName, run.Bill.SHA256),
	})
	if err != nil {
		return Result{}, err
	}
	defer b.f.Close()
	if err := b.addSheet(SummarySheet); err != nil {
		return Result{}, err
	}
	if err := b.fitWidth(SummarySheet); err != nil {
		return Result{}, err
	}
	if err := writeFindings(b, in.Findings); err != nil {
		return Result{}, err
	}
	n, err := writeMovements(b, in, sheetRows)
	if err != nil {
		return Result{}, err
	}
	if n != run.Lines && run.Lines != 0 {
		return Result{}, fmt.Errorf("fund bill %s has %d movements, but run %d reconciled %d: the kept file is not the one reconciled",
			run.Bill.FileName, n, run.ID, run.Lines)
	}
	s := &sheetWriter{b: b, sheet: SummarySheet}
	s.set("A1", fmt.Sprintf("Fund reconciliation of %s for %s", run.Channel.DisplayName(), run.Day), b.title)
	r := s.keyValues(3, [][2]any{
		{"Exported at", in.ExportedAt}, {"Exported by", in.ExportedBy},
	})
	if _, err := fundBlock(s, r+1, run, in.Findings, false); err != nil {
		return Result{}, err
	}
	if s.err != nil {
		return Result{}, s.err
	}
	if err := s.widths(); err != nil {
		return Result{}, err
	}
	if err := b.write(w); err != nil {
		return Result{}, err
	}
	return b.result(), nil
}

// writeFundsSheet is the trade report's sheet for the day's fund run: its
// figures, then its findings.
func writeFundsSheet(b *book, fr FundRun) error {
	if err := b.addSheet(FundsSheet); err != nil {
		return err
	}
	s := &sheetWriter{b: b, sheet: FundsSheet}
	s.set("A1", fmt.Sprintf("Fund-flow run #%d of %s for %s", fr.Run.ID, fr.Run.Channel.DisplayName(), fr.Run.Day), b.title)
	if _, err := fundBlock(s, 3, fr.Run, fr.Findings, true); err != nil {
		return err
	}
	if s.err != nil {
		return s.err
	}
	return s.widths()
}

// fundBlock writes a fund run's figures from row r on: the run and its
// bill, the categories, the bill's stated and computed totals, fees, the
// withdrawals, the vocabulary, and (withFindings) the findings. It returns
// the next free row.
func fundBlock(s *sheetWriter, r int, run store.Run, findings []store.Finding, withFindings bool) (int, error) {
	b := s.b
	bill := run.Bill
	if bill == nil || bill.FundStated == nil || bill.FundComputed == nil {
		return r, fmt.Errorf("fund run %d: its fund bill is not loaded", run.ID)
	}
	r = s.keyValues(r, [][2]any{
		{"Channel", string(run.Channel)}, {"Business date", run.Day}, {"Run", "#" + strconv.FormatInt(run.ID, 10)},
		{"Fund bill", bill.FileName}, {"Fund bill source", bill.Source}, {"Fund bill sha256", bill.SHA256},
		{"Movements", run.Lines}, {"Local orders", run.Orders}, {"Run by", run.Operator}, {"Run finished", run.FinishedAt},
	})
	if run.Superseded != 0 {
		s.set(cellName(3, r-1), fmt.Sprintf("superseded by run #%d", run.Superseded), b.warn)
	}

	r++
	s.header(r, "Category", "Severity", "Count", "Amount", "Usual action")
	for _, c := range recon.FundCategories {
		r++
		ct := run.Counts[string(c)]
		s.set(cellName(1, r), string(c), b.cell[plain][text])
		s.set(cellName(2, r), string(c.Severity()), b.cell[toneOf(string(c.Severity()))][text])
		s.set(cellName(3, r), ct.Count, b.cell[plain][count])
		s.set(cellName(4, r), ct.Amount, b.cell[plain][money])
		s.set(cellName(5, r), c.Action(), b.cell[plain][text])
	}

	r += 2
	s.header(r, "Fund bill totals", "Stated", "Computed")
	st, co := bill.FundStated, bill.FundComputed
	for _, e := range []struct {
		k                string
		stated, computed any
		kind             kind
	}{
		{"Movements in", st.Income, co.Income, count}, {"Money in", st.IncomeAmount, co.IncomeAmount, money},
		{"Movements out", st.Expense, co.Expense, count}, {"Money out", st.ExpenseAmount, co.ExpenseAmount, money},
		{"Net movement", st.Net(), co.Net(), money},
	} {
		r++
		s.set(cellName(1, r), e.k, b.cell[plain][text])
		s.set(cellName(2, r), e.stated, b.cell[plain][e.kind])
		s.set(cellName(3, r), e.computed, b.cell[plain][e.kind])
	}

	r += 2
	r = feeRows(s, r, run)
	r++
	s.set(cellName(1, r), "Withdrawals to the bank", b.cell[plain][text])
	s.set(cellName(2, r), run.Counts[string(recon.Withdrawal)].Amount, b.cell[plain][money])
	s.set(cellName(3, r), fmt.Sprintf("%d withdrawals: listed, not errors", run.Counts[string(recon.Withdrawal)].Count), b.cell[plain][text])

	r += 2
	r = vocabularyRows(s, r)

	if withFindings {
		r += 2
		cols := []string{"Finding", "Severity", "Category", "Kind", "out_trade_no", "trade_no", "out_request_no", "flow_no",
			"Expected", "Moved", "Resolution", "Detail"}
		s.header(r, cols...)
		for _, f := range findings {
			r++
			res := f.Resolution
			if res == "" {
				res = ResolutionOpen
			}
			tn := toneOf(f.Severity)
			for i, v := range []any{f.ID, f.Severity, f.Category, f.Kind, f.OutTradeNo, f.TradeNo, f.OutRequestNo, f.FlowNo,
				amountOn(f.Side != string(recon.SidePlatform), f.LocalAmount), amountOn(f.Side != string(recon.SideLocal), f.PlatformAmount),
				res, gateway.MaskBuyerIDs(f.Detail)} {
				k := text
				switch v.(type) {
				case gateway.Money:
					k = money
				case int64:
					k = count
				}
				s.set(cellName(i+1, r), v, b.cell[tn][k])
			}
		}
	}
	return r + 1, nil
}

// feeRows writes the fees block at row r: charged beside expected.
func feeRows(s *sheetWriter, r int, run store.Run) int {
	b := s.b
	s.header(r, "Service fees", "Amount", "")
	r++
	s.set(cellName(1, r), "Charged", b.cell[plain][text])
	s.set(cellName(2, r), run.Fees, b.cell[plain][money])
	r++
	s.set(cellName(1, r), "Expected", b.cell[plain][text])
	switch {
	case run.ExpectedFees == nil:
		s.set(cellName(2, r), "no contracted rate configured", b.cell[plain][text])
	default:
		s.set(cellName(2, r), *run.ExpectedFees, b.cell[plain][money])
		what := "at the contracted rate " + run.FeeRate + ", each fee rounded half up to the fen"
		if run.Kind == store.BillFunds {
			what = "the trade bill's fees"
			if run.FeeRate != "" {
				what += "; the contracted rate " + run.FeeRate + "'s for bookings the bill lacks"
			}
		}
		s.set(cellName(3, r), what, b.cell[plain][text])
		r++
		s.set(cellName(1, r), "Charged − expected", b.cell[plain][text])
		s.set(cellName(2, r), run.Fees-*run.ExpectedFees, b.cell[plain][money])
	}
	return r
}

// vocabularyRows says what 长款 and 短款 mean here (recon.Vocabulary).
func vocabularyRows(s *sheetWriter, r int) int {
	b := s.b
	s.header(r, "Term", "Category", "Meaning (the merchant's point of view)")
	for _, t := range recon.Vocabulary {
		r++
		s.set(cellName(1, r), t.Word, b.cell[plain][text])
		s.set(cellName(2, r), string(t.Category), b.cell[plain][text])
		s.set(cellName(3, r), t.Meaning, b.cell[plain][text])
	}
	return r
}

// sheetWriter sets cells of a free-form sheet (Summary, Funds), keeping the
// first error.
type sheetWriter struct {
	b     *book
	sheet string
	err   error
}

func (s *sheetWriter) set(cell string, v any, style int) {
	if s.err != nil {
		return
	}
	f := s.b.f
	switch v := v.(type) {
	case gateway.Money:
		// Exact decimal text computed from the integer: the cell is a
		// number, never a string, and no float is involved.
		if s.err = checkExact(v); s.err == nil {
			s.err = f.SetCellDefault(s.sheet, cell, decimal(v))
		}
	case time.Time:
		if !v.IsZero() {
			s.err = f.SetCellDefault(s.sheet, cell, strconv.FormatFloat(excelSerial(v, s.b.zone), 'f', -1, 64))
		}
	case nil:
	default:
		s.err = f.SetCellValue(s.sheet, cell, v)
	}
	if s.err == nil && style != 0 {
		s.err = f.SetCellStyle(s.sheet, cell, cell, style)
	}
}

func (s *sheetWriter) formula(cell, expr string, style int) {
	if s.err == nil {
		s.err = s.b.f.SetCellFormula(s.sheet, cell, expr)
	}
	if s.err == nil {
		s.err = s.b.f.SetCellStyle(s.sheet, cell, cell, style)
	}
}

func (s *sheetWriter) header(r int, names ...string) {
	for i, h := range names {
		s.set(cellName(i+1, r), h, s.b.header)
	}
}

// keyValues writes label/value pairs from row r on and returns the row
// after them.
func (s *sheetWriter) keyValues(r int, kv [][2]any) int {
	for _, e := range kv {
		style := s.b.cell[plain][text]
		switch e[1].(type) {
		case int:
			style = s.b.cell[plain][count]
		case gateway.Money:
			style = s.b.cell[plain][money]
		}
		if _, ok := e[1].(time.Time); ok {
			style = s.b.cell[plain][stamp]
		}
		s.set(cellName(1, r), e[0], s.b.label)
		s.set(cellName(2, r), e[1], style)
		r++
	}
	return r
}

func (s *sheetWriter) widths() error {
	if s.err != nil {
		return s.err
	}
	for _, w := range []struct {
		col   string
		width float64
	}{{"A", 24}, {"B", 22}, {"C", 18}, {"D", 18}, {"E", 30}} {
		if err := s.b.f.SetColWidth(s.sheet, w.col, w.col, w.width); err != nil {
			return err
		}
	}
	return nil
}

var movementColumns = []column{
	{name: "Line", kind: count},
	{name: "Kind", kind: text},
	{name: "Time", kind: stamp},
	{name: "Type", kind: text},
	{name: "Amount", kind: money},
	{name: "Balance", kind: money},
	{name: "trade_no", kind: text},
	{name: "Refund id", kind: text},
	{name: "out_trade_no", kind: text},
	{name: "out_request_no", kind: text},
	{name: "flow_no", kind: text},
	{name: "Remark", kind: text, max: 40},
	{name: "Result", kind: text},
	{name: "Severity", kind: text},
	{name: "Note", kind: text, max: 60},
}

// writeMovements re-reads the fund bill and writes every movement with its
// result: the finding made from that line (a stand-alone movement, or the
// first movement of a booking), else the finding of the booking it belongs
// to (same trade or refund number), else FUND_MATCHED.
func writeMovements(b *book, in Recon, sheetRows int) (int, error) {
	byLine := map[int]*store.Finding{}
	byNo := map[string]*store.Finding{}
	for i := range in.Findings {
		f := &in.Findings[i]
		if f.BillLine > 0 {
			byLine[f.BillLine] = f
		}
		if f.Side != string(recon.SidePlatform) {
			for _, no := range []string{f.TradeNo, f.OutRequestNo} {
				if no != "" {
					byNo[no] = f
				}
			}
		}
	}
	lines, done, err := in.OpenFunds()
	if err != nil {
		return 0, fmt.Errorf("open fund bill %s: %w", in.Run.Bill.FileName, err)
	}
	t := b.newTable(MovementsSheet, movementColumns, true)
	t.sheetRows = sheetRows
	n := 0
	for {
		l, err := lines.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			_ = done(false)
			return n, err
		}
		n++
		f := byLine[l.Line]
		if f == nil {
			for _, no := range []string{l.OutRequestNo, l.RefundID, l.TradeNo} {
				if f = byNo[no]; no != "" && f != nil {
					break
				}
			}
		}
		result, severity, note, tn := string(recon.FundMatched), "", "", plain
		if f != nil {
			result, severity, tn = f.Category, f.Severity, toneOf(f.Severity)
			if f.BillLine == l.Line {
				note = gateway.MaskBuyerIDs(f.Detail)
			} else {
				note = "part of the booking of line " + strconv.Itoa(f.BillLine)
				if f.BillLine == 0 {
					note = "part of " + cmp.Or(f.OutTradeNo, f.OutRequestNo)
				}
			}
		}
		if err := t.add(tn, l.Line, string(l.Kind), l.Time, l.Type, l.Amount, l.Balance, l.TradeNo, l.RefundID, l.OutTradeNo,
			l.OutRequestNo, l.FlowNo, gateway.MaskBuyerIDs(l.Remark), result, severity, note); err != nil {
			_ = done(false)
			return n, err
		}
	}
	if err := done(true); err != nil {
		return n, err
	}
	return n, t.close()
}
