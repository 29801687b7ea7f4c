package ops

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/paydesk/paydesk/exports"
	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/internal/testkit"
	"github.com/paydesk/paydesk/store"
)

var fundsDay = time.Date(2026, 11, 22, 12, 0, 0, 0, gateway.Shanghai)

// tradeRun imports testdata/funds and reconciles Alipay's trade bill of
// the day (text given, so a test can change it).
func tradeRun(t *testing.T, s *Service, bill string) store.Run {
	t.Helper()
	p := filepath.Join(t.TempDir(), "alipay_trade.csv")
	if err := os.WriteFile(p, []byte(bill), 0o600); err != nil {
		t.Fatal(err)
	}
	run, err := s.RunRecon(context.Background(), ReconRequest{Channel: gateway.Alipay, Day: fundsDay, BillFile: p}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

func fundsWorld(t *testing.T, db string) (*Service, string) {
	t.Helper()
	s := testService(t, Admin, db)
	if _, err := s.ImportOrders(context.Background(), testkit.Testdata("funds", "orders.csv")); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(testkit.Testdata("funds", "alipay_trade_20261122.csv"))
	if err != nil {
		t.Fatal(err)
	}
	return s, string(b)
}

// TestRunChanges: each run lists its findings as new, still open, resolved
// or gone against the run of the day before it, and says so in one line.
func TestRunChanges(t *testing.T) {
	eachEngine(t, func(t *testing.T, db string) {
		ctx := context.Background()
		s, bill := fundsWorld(t, db)
		r1 := tradeRun(t, s, bill)
		d, err := s.DiffRuns(ctx, 0, r1.ID)
		if err != nil {
			t.Fatal(err)
		}
		// Imported orders: six NOTIFY_MISSING, and a refund only the bill has.
		if d.From.ID != 0 || d.Counts[ChangeNew] != 7 || d.Summary() != "7 new" {
			t.Fatalf("first run: %+v %q", d.Counts, d.Summary())
		}
		fs, _ := s.Findings(ctx, store.FindingFilter{RunID: r1.ID})
		var notifyOf = map[string]int64{}
		for _, f := range fs {
			notifyOf[f.OutTradeNo+"/"+f.Category] = f.ID
		}
		if _, err := s.ResolveFindings(ctx, []int64{notifyOf["PDAF01MATCH/NOTIFY_MISSING"], notifyOf["PDAF03MISSING/NOTIFY_MISSING"]},
			"ignored", "imported from the old system: no callback expected"); err != nil {
			t.Fatal(err)
		}
		// The second bill lacks PDAF04AMOUNT's line (MISSING_PLATFORM now, and
		// its NOTIFY_MISSING gone) and books PDAF07FEE for 201.00 (an
		// AMOUNT_MISMATCH in place of its NOTIFY_MISSING).
		lines := strings.Split(bill, "\n")
		var kept []string
		for _, l := range lines {
			if !strings.Contains(l, "PDAF04AMOUNT") {
				kept = append(kept, l)
			}
		}
		bill2 := strings.Join(kept, "\n")
		bill2 = strings.Replace(bill2, ",200.00,200.00,", ",201.00,201.00,", 1)
		bill2 = strings.Replace(bill2, "#交易合计：6笔，商家实收共462.00元", "#交易合计：5笔，商家实收共443.00元", 1)
		r2 := tradeRun(t, s, bill2)
		d, err = s.DiffRuns(ctx, 0, r2.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d.From.ID != r1.ID {
			t.Fatalf("compared with run %d, want %d", d.From.ID, r1.ID)
		}
		got := map[string]Change{}
		for _, c := range d.Changes {
			got[c.Finding.OutTradeNo+"/"+c.Finding.Category] = c.Change
		}
		want := map[string]Change{
			"PDAF01MATCH/NOTIFY_MISSING":    ChangeResolved,
			"PDAF03MISSING/NOTIFY_MISSING":  ChangeResolved,
			"PDAF05REFUND/NOTIFY_MISSING":   ChangeStillOpen,
			"PDAF05REFUND/REFUND_MISMATCH":  ChangeStillOpen,
			"PDAF06LATE/NOTIFY_MISSING":     ChangeStillOpen,
			"PDAF04AMOUNT/MISSING_PLATFORM": ChangeNew,
			"PDAF07FEE/AMOUNT_MISMATCH":     ChangeNew,
			"PDAF04AMOUNT/NOTIFY_MISSING":   ChangeGone,
			"PDAF07FEE/NOTIFY_MISSING":      ChangeGone,
		}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("%s: %q, want %q", k, got[k], w)
			}
		}
		if len(got) != len(want) {
			t.Errorf("changes %v", got)
		}
		if s := d.Summary(); s != "2 new · 2 gone · 3 still open · 2 resolved" {
			t.Errorf("summary %q", s)
		}
		// The replaced run keeps its own findings; explicit runs compare too.
		if d2, err := s.DiffRuns(ctx, r2.ID, r1.ID); err != nil || d2.Counts[ChangeGone] != 2 || d2.Counts[ChangeNew] != 2 {
			t.Errorf("reverse diff: %+v %v", d2.Counts, err)
		}
	})
}

// editCell sets one cell of a saved workbook, as a person would in a
// spreadsheet, and saves it.
func editWorkbook(t *testing.T, path string, edits map[string]string) {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for cell, v := range edits {
		if err := f.SetCellValue(exports.FindingsSheet, cell, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// findingRows maps each finding to its row on the exported Findings sheet,
// and returns the column letters of Resolution and Note.
func findingRows(t *testing.T, path string) (map[int64]int, string, string) {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, _ := f.GetRows(exports.FindingsSheet, excelize.Options{RawCellValue: true})
	var resCol, noteCol string
	for i, h := range rows[0] {
		name, _ := excelize.ColumnNumberToName(i + 1)
		switch h {
		case exports.ResolutionColumn:
			resCol = name
		case exports.NoteColumn:
			noteCol = name
		}
	}
	out := map[int64]int{}
	for i, r := range rows[1:] {
		if id, err := strconv.ParseInt(r[0], 10, 64); err == nil {
			out[id] = i + 2
		}
	}
	return out, resCol, noteCol
}

// TestImportResolutionsRoundTrip exports a run, edits Resolution and Note
// with excelize as a person would, and imports them back: applied all
// together, each audited. A file with one bad row changes nothing and
// names every bad cell.
func TestImportResolutionsRoundTrip(t *testing.T) {
	eachEngine(t, func(t *testing.T, db string) {
		ctx := context.Background()
		s, bill := fundsWorld(t, db)
		run := tradeRun(t, s, bill)
		fs, _ := s.Findings(ctx, store.FindingFilter{RunID: run.ID})
		out := filepath.Join(t.TempDir(), "recon.xlsx")
		if _, err := s.ExportRecon(ctx, run.ID, out, false); err != nil {
			t.Fatal(err)
		}
		rowOf, resCol, noteCol := findingRows(t, out)
		if len(rowOf) != len(fs) {
			t.Fatalf("%d finding rows, %d findings", len(rowOf), len(fs))
		}
		cell := func(col string, id int64) string { return col + strconv.Itoa(rowOf[id]) }
		byKey := map[string]store.Finding{}
		for _, f := range fs {
			byKey[f.OutTradeNo+"/"+f.Category] = f
		}
		a, b, c := byKey["PDAF01MATCH/NOTIFY_MISSING"], byKey["PDAF05REFUND/REFUND_MISMATCH"], byKey["PDAF06LATE/NOTIFY_MISSING"]

		// A bad file first: an unknown finding, a resolution nobody allows, a
		// decision without a note — and one good row, which must not be applied
		// either.
		bad := filepath.Join(t.TempDir(), "bad.xlsx")
		data, _ := os.ReadFile(out)
		os.WriteFile(bad, data, 0o600)
		editWorkbook(t, bad, map[string]string{
			cell(resCol, a.ID): "ignored", cell(noteCol, a.ID): "fine",
			cell("A", b.ID):    "999999",
			cell(resCol, c.ID): "done",
		})
		editWorkbook(t, bad, map[string]string{cell(resCol, byKey["PDAF03MISSING/NOTIFY_MISSING"].ID): "resolved"})
		_, err := s.ImportResolutions(ctx, bad)
		if !errors.Is(err, ErrBadResolutions) {
			t.Fatalf("bad file: %v", err)
		}
		for _, want := range []string{
			"Findings!" + cell("A", b.ID) + ": finding 999999 does not exist",
			"Findings!" + cell(resCol, c.ID) + `: resolution "done": want resolved, ignored or open`,
			"Findings!" + cell(noteCol, byKey["PDAF03MISSING/NOTIFY_MISSING"].ID) + ": a note is required when the resolution is resolved",
		} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error lacks %q:\n%v", want, err)
			}
		}
		if f, _ := s.store.GetFinding(ctx, a.ID); f.Resolution != "" {
			t.Fatalf("a refused file changed finding %d: %+v", a.ID, f)
		}

		// The good edit: two decisions, the rest left as exported.
		editWorkbook(t, out, map[string]string{
			cell(resCol, a.ID): "Ignored", cell(noteCol, a.ID): "imported order: no callback",
			cell(resCol, b.ID): "resolved", cell(noteCol, b.ID): "refund RQAF05 made in the Alipay console; booked by hand",
		})
		res, err := s.ImportResolutions(ctx, out)
		if err != nil {
			t.Fatal(err)
		}
		if res.Rows != len(fs) || res.Changed != 2 || res.Unchanged != len(fs)-2 {
			t.Fatalf("result %+v", res)
		}
		if f, _ := s.store.GetFinding(ctx, a.ID); f.Resolution != "ignored" || f.Note != "imported order: no callback" || f.Resolver != "tester" {
			t.Errorf("finding a: %+v", f)
		}
		if f, _ := s.store.GetFinding(ctx, b.ID); f.Resolution != "resolved" {
			t.Errorf("finding b: %+v", f)
		}
		audit, _ := s.store.ListAudit(ctx, store.AuditFilter{Action: string(ActResolve)}, 0, 50)
		perRow := 0
		for _, e := range audit {
			if e.Operator == "tester" && e.Outcome == store.AuditOK && strings.Contains(e.Detail, "(imported from recon.xlsx, Findings row") {
				perRow++
			}
		}
		if perRow != 2 {
			t.Errorf("%d audited rows, want 2: %+v", perRow, audit)
		}

		// Importing the same file again changes nothing; a file of a replaced
		// run is refused.
		if res, err := s.ImportResolutions(ctx, out); err != nil || res.Changed != 0 {
			t.Errorf("second import: %+v %v", res, err)
		}
		tradeRun(t, s, bill)
		if _, err := s.ImportResolutions(ctx, out); err == nil || !strings.Contains(err.Error(), "was replaced by run") {
			t.Errorf("import into a replaced run: %v", err)
		}
		// A viewer may not.
		if _, err := as(t, s, Viewer).ImportResolutions(ctx, out); !errors.Is(err, ErrForbidden) {
			t.Errorf("viewer import: %v", err)
		}
	})
}

// TestFundReportSheets: a fund run's report is its own (Summary with the
// fund bill's totals, fees and the 长款/短款 vocabulary; Findings; every
// movement on Movements with its result), and the trade run's report gets
// the day's fund run as a sheet of its own.
func TestFundReportSheets(t *testing.T) {
	eachEngine(t, func(t *testing.T, db string) {
		ctx := context.Background()
		s, bill := fundsWorld(t, db)
		trade := tradeRun(t, s, bill)
		funds, err := s.RunFundRecon(ctx, ReconRequest{Channel: gateway.Alipay, Day: fundsDay, BillFile: testkit.Testdata("funds", "alipay_fund_20261122.csv")}, nil)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		fr, err := s.ExportRecon(ctx, funds.ID, filepath.Join(dir, "funds.xlsx"), false)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(fr.Sheets, ",") != "Summary,Findings,Movements" {
			t.Fatalf("fund report sheets %v", fr.Sheets)
		}
		f, err := excelize.OpenFile(filepath.Join(dir, "funds.xlsx"))
		if err != nil {
			t.Fatal(err)
		}
		rows, _ := f.GetRows(exports.MovementsSheet)
		if len(rows) != 1+14+1 { // header, 14 movements, total
			t.Fatalf("%d Movements rows", len(rows))
		}
		results := map[string]int{}
		for _, r := range rows[1:15] {
			results[r[12]]++
		}
		// Two movements of PDAF04AMOUNT's booking; one each for the 长款, the
		// deduction and two withdrawals; the other eight matched.
		if results["FUND_AMOUNT_MISMATCH"] != 2 || results["FUND_UNEXPECTED"] != 2 || results["WITHDRAWAL"] != 2 || results["FUND_MATCHED"] != 8 {
			t.Errorf("movement results %v", results)
		}
		summary, _ := f.GetRows(exports.SummarySheet)
		text := fmt.Sprint(summary)
		for _, want := range []string{"长款", "FUND_UNEXPECTED", "短款", "FUND_MISSING", "Withdrawals to the bank", "Money in", "499.18"} {
			if !strings.Contains(text, want) {
				t.Errorf("fund Summary lacks %q", want)
			}
		}
		f.Close()

		tr, err := s.ExportRecon(ctx, trade.ID, filepath.Join(dir, "trade.xlsx"), false)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(tr.Sheets, exports.FundsSheet) {
			t.Fatalf("trade report sheets %v", tr.Sheets)
		}
		f, _ = excelize.OpenFile(filepath.Join(dir, "trade.xlsx"))
		defer f.Close()
		fundsRows, _ := f.GetRows(exports.FundsSheet)
		text = fmt.Sprint(fundsRows)
		for _, want := range []string{fmt.Sprintf("Fund-flow run #%d", funds.ID), "PDAF03MISSING", "长款", "WITHDRAWAL"} {
			if !strings.Contains(text, want) {
				t.Errorf("Funds sheet lacks %q", want)
			}
		}
	})
}
