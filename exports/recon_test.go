package exports

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/internal/testkit"
	"github.com/paydesk/paydesk/recon"
	"github.com/paydesk/paydesk/store"
)

func writeReport(t testing.TB, in Recon, sheetRows int) (string, Result) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "recon.xlsx")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := reconReport(out, in, sheetRows)
	if err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return path, res
}

func TestReconReport(t *testing.T) {
	fx := newReconFixture(t)
	ctx := context.Background()
	// One finding resolved with a note that names a buyer: resolved counts
	// show on the Summary, and the buyer id is masked.
	var critical store.Finding
	for _, f := range fx.findings {
		if f.Category == string(recon.MissingLocal) {
			critical = f
		}
	}
	if critical.ID == 0 {
		t.Fatalf("fixture has no MISSING_LOCAL finding: %+v", fx.findings)
	}
	if _, err := fx.st.ResolveFinding(ctx, critical.ID, "resolved", "buyer "+buyer+" confirmed; refunded", "bob", at(t, "2026-11-23 09:40:00")); err != nil {
		t.Fatal(err)
	}
	fx.load(t, fx.run.ID)

	path, res := writeReport(t, fx.input(t), excelize.TotalRows)
	f := workbook(t, path)

	wantSheets := []string{SummarySheet, FindingsSheet, SuspenseSheet, LinesSheet}
	if got := f.GetSheetList(); !slices.Equal(got, wantSheets) {
		t.Fatalf("sheets %q, want %q", got, wantSheets)
	}
	if !slices.Equal(res.Sheets, wantSheets) || res.Rows != len(fx.findings)+1+len(fx.lines) {
		t.Errorf("result %+v: want sheets %q and %d rows", res, wantSheets, len(fx.findings)+1+len(fx.lines))
	}

	t.Run("Summary", func(t *testing.T) {
		for cell, want := range map[string]string{"B3": "alipay", "B4": testDay, "B5": "file", "B6": fx.run.Bill.FileName, "B7": fx.run.Bill.SHA256, "B13": "alice", "B15": "carol"} {
			if got, _ := f.GetCellValue(SummarySheet, cell); got != want {
				t.Errorf("Summary!%s = %q, want %q", cell, got, want)
			}
		}
		checkTime(t, f, SummarySheet, "B11", fx.run.StartedAt)
		checkFormat(t, f, SummarySheet, "B11", TimeFormat)
		// Per category: count and amount exactly as run.Counts has them.
		for i, c := range recon.Categories {
			r := strconv.Itoa(summaryCategoryRow + 1 + i)
			if got, _ := f.GetCellValue(SummarySheet, "A"+r); got != string(c) {
				t.Fatalf("Summary!A%s = %q, want %s", r, got, c)
			}
			ct := fx.run.Counts[string(c)]
			if got, _ := f.GetCellValue(SummarySheet, "C"+r, excelize.Options{RawCellValue: true}); got != strconv.Itoa(ct.Count) {
				t.Errorf("Summary count of %s = %q, want %d", c, got, ct.Count)
			}
			checkMoney(t, f, SummarySheet, "D"+r, ct.Amount)
			if c == recon.Matched {
				continue
			}
			// The cross-check formula sums the Findings sheet and must
			// equal the run's figure.
			got, err := f.CalcCellValue(SummarySheet, "E"+r, excelize.Options{RawCellValue: true})
			if err != nil {
				t.Fatal(err)
			}
			if m, err := gateway.ParseMoney(got); err != nil || m != ct.Amount {
				t.Errorf("Summary!E%s (Findings sheet sum of %s) = %q, want %s", r, c, got, ct.Amount)
			}
		}
		// The bill's stated and computed totals, fees and settlement.
		rows, _ := f.GetRows(SummarySheet)
		find := func(label string) int {
			for i, r := range rows {
				if len(r) > 0 && r[0] == label {
					return i + 1
				}
			}
			t.Fatalf("Summary has no %q row", label)
			return 0
		}
		bill := fx.run.Bill
		// Alipay states the count and net of payments and refunds, not
		// the amounts or fees.
		r := strconv.Itoa(find("Net before fees"))
		checkMoney(t, f, SummarySheet, "B"+r, bill.Stated.Net)
		checkMoney(t, f, SummarySheet, "C"+r, bill.Computed.Net)
		if got, _ := f.CalcCellValue(SummarySheet, "D"+r, excelize.Options{RawCellValue: true}); got != "0" {
			t.Errorf("stated vs computed net differ by %q", got)
		}
		r = strconv.Itoa(find("Payment amount"))
		checkMoney(t, f, SummarySheet, "C"+r, bill.Computed.PaymentAmount)
		if got, _ := f.GetCellValue(SummarySheet, "B"+r); got != "not stated" {
			t.Errorf("stated payment amount %q, want \"not stated\" (Alipay's layout has none)", got)
		}
		checkMoney(t, f, SummarySheet, "B"+strconv.Itoa(find("Net settlement")), fx.run.Net)
		checkMoney(t, f, SummarySheet, "B"+strconv.Itoa(find("Service fees")), fx.run.Fees)
		for label, want := range map[string]int{"open": len(fx.findings) - 1, "resolved": 1, "ignored": 0} {
			if got, _ := f.GetCellValue(SummarySheet, "B"+strconv.Itoa(find(label)), excelize.Options{RawCellValue: true}); got != strconv.Itoa(want) {
				t.Errorf("Summary %s = %q, want %d", label, got, want)
			}
		}
		chart := zipPart(t, path, "xl/charts/chart1.xml")
		if !strings.Contains(chart, `<barChart><barDir val="bar">`) ||
			!strings.Contains(chart, fmt.Sprintf("&#39;%s&#39;!$D$%d:$D$%d", SummarySheet, summaryCategoryRow+1, summaryCategoryRow+len(recon.Categories)-1)) {
			t.Errorf("no bar chart of the category amounts: %.300s", chart)
		}
	})

	t.Run("Findings", func(t *testing.T) {
		head := header(t, f, FindingsSheet)
		if !slices.Equal(head, columnNames(findingColumns)) {
			t.Fatalf("Findings header %q", head)
		}
		n := len(fx.findings)
		checkFrozenAndFiltered(t, f, FindingsSheet, n+1, "X")
		local, platform, counted, category := colOf(t, head, "Local amount"), colOf(t, head, "Platform amount"), colOf(t, head, "Counted amount"), colOf(t, head, "Category")
		var sum gateway.Money
		for i, fd := range fx.findings {
			r := strconv.Itoa(i + 2)
			if got, _ := f.GetCellValue(FindingsSheet, category+r); got != fd.Category {
				t.Errorf("Findings row %s category %q, want %s", r, got, fd.Category)
			}
			// Each row names its finding and run, for the resolution import.
			if id, _ := f.GetCellValue(FindingsSheet, "A"+r, excelize.Options{RawCellValue: true}); id != strconv.FormatInt(fd.ID, 10) {
				t.Errorf("Findings!A%s = %q, want finding %d", r, id, fd.ID)
			}
			if run, _ := f.GetCellValue(FindingsSheet, "B"+r, excelize.Options{RawCellValue: true}); run != strconv.FormatInt(fd.RunID, 10) {
				t.Errorf("Findings!B%s = %q, want run %d", r, run, fd.RunID)
			}
			if fd.LocalStatus != "" {
				checkMoney(t, f, FindingsSheet, local+r, fd.LocalAmount)
			}
			if fd.PlatformStatus != "" {
				checkMoney(t, f, FindingsSheet, platform+r, fd.PlatformAmount)
			}
			checkMoney(t, f, FindingsSheet, counted+r, signedAmount(fd))
			sum += signedAmount(fd)
			// Rows are coloured by severity.
			id, _ := f.GetCellStyle(FindingsSheet, "A"+r)
			st, _ := f.GetStyle(id)
			want := toneColours[toneOf(fd.Severity)].fill
			if len(st.Fill.Color) != 1 || !strings.EqualFold(st.Fill.Color[0], want) && !strings.EqualFold(st.Fill.Color[0], "FF"+want) {
				t.Errorf("Findings row %s (%s) fill %v, want %s", r, fd.Severity, st.Fill.Color, want)
			}
		}
		// The total row's SUBTOTAL equals the run's total of every category
		// but MATCHED.
		var want gateway.Money
		for c, ct := range fx.run.Counts {
			if c != string(recon.Matched) {
				want += ct.Amount
			}
		}
		if sum != want {
			t.Fatalf("counted amounts sum to %s, run.Counts to %s", sum, want)
		}
		totalRow := strconv.Itoa(n + 2)
		if got, _ := f.GetCellValue(FindingsSheet, "A"+totalRow); got != "Total" {
			t.Fatalf("Findings!A%s = %q, want Total", totalRow, got)
		}
		formula, _ := f.GetCellFormula(FindingsSheet, counted+totalRow)
		if formula != "SUBTOTAL(9,"+counted+"2:"+counted+strconv.Itoa(n+1)+")" {
			t.Errorf("total formula %q", formula)
		}
		got, err := f.CalcCellValue(FindingsSheet, counted+totalRow, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		if m, err := gateway.ParseMoney(got); err != nil || m != want {
			t.Errorf("Findings total = %q, want %s", got, want)
		}
		// The resolved finding's note names no buyer.
		rows, _ := f.GetRows(FindingsSheet)
		note := colOf(t, head, "Note")
		idx, _ := excelize.ColumnNameToNumber(note)
		found := false
		for _, r := range rows {
			if len(r) >= idx && strings.Contains(r[idx-1], "confirmed; refunded") {
				found = true
				if strings.Contains(r[idx-1], buyer) || !strings.Contains(r[idx-1], gateway.MaskBuyerID(buyer)) {
					t.Errorf("note not masked: %q", r[idx-1])
				}
			}
		}
		if !found {
			t.Error("the resolution note is not on the Findings sheet")
		}
		// Widths fit the content: the category column fits its longest value.
		w, _ := f.GetColWidth(FindingsSheet, category)
		if w < float64(len("MISSING_PLATFORM")) {
			t.Errorf("category column %.1f wide", w)
		}
	})

	t.Run("Lines", func(t *testing.T) {
		head := header(t, f, LinesSheet)
		if !slices.Equal(head, columnNames(lineColumns)) {
			t.Fatalf("Lines header %q", head)
		}
		checkFrozenAndFiltered(t, f, LinesSheet, len(fx.lines)+1, "N")
		result, amount, fee, tm, subject := colOf(t, head, "Result"), colOf(t, head, "Amount"), colOf(t, head, "Fee"), colOf(t, head, "Time"), colOf(t, head, "Subject")
		for i, l := range fx.lines {
			r := strconv.Itoa(i + 2)
			if got, _ := f.GetCellValue(LinesSheet, "A"+r, excelize.Options{RawCellValue: true}); got != strconv.Itoa(l.Line) {
				t.Errorf("Lines!A%s = %q, want line %d", r, got, l.Line)
			}
			if got, _ := f.GetCellValue(LinesSheet, result+r); got != string(fx.cats[i]) {
				t.Errorf("line %d result %q, recon said %s", l.Line, got, fx.cats[i])
			}
			checkMoney(t, f, LinesSheet, amount+r, l.Amount)
			checkMoney(t, f, LinesSheet, fee+r, l.Fee)
			checkTime(t, f, LinesSheet, tm+r, l.Time)
			checkFormat(t, f, LinesSheet, tm+r, TimeFormat)
		}
		// CJK counts double: "不认识的订单" is 12 columns wide.
		if w, _ := f.GetColWidth(LinesSheet, subject); w < 12 {
			t.Errorf("subject column %.1f wide, want room for 6 Chinese characters", w)
		}
	})

	t.Run("no secrets or buyer ids", func(t *testing.T) {
		all := testkit.XLSXText(t, path)
		if strings.Contains(all, buyer) {
			t.Error("a buyer id is in the workbook unmasked")
		}
	})

	t.Run("LibreOffice", func(t *testing.T) {
		pdf := convertWithLibreOffice(t, path)
		if dir := os.Getenv("PAYDESK_KEEP_REPORT"); dir != "" {
			copyFile(t, path, filepath.Join(dir, "recon.xlsx"))
			copyFile(t, pdf, filepath.Join(dir, "recon.pdf"))
		}
	})
}

func copyFile(t testing.TB, from, to string) {
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func columnNames(cols []column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.name
	}
	return out
}

// TestReconReportSplitsLines writes the Lines sheet with a tiny row limit
// and checks that it continues on further sheets with every line once.
func TestReconReportSplitsLines(t *testing.T) {
	fx := newReconFixture(t)
	// 4 rows a sheet: header, two lines, total.
	path, res := writeReport(t, fx.input(t), 4)
	f := workbook(t, path)
	want := []string{SummarySheet, FindingsSheet, SuspenseSheet, LinesSheet, LinesSheet + " 2", LinesSheet + " 3", LinesSheet + " 4"}
	if got := f.GetSheetList(); !slices.Equal(got, want) || !slices.Equal(res.Sheets, want) {
		t.Fatalf("sheets %q (result %q), want %q", got, res.Sheets, want)
	}
	var lines []string
	for _, sh := range want[3:] {
		if h := header(t, f, sh); !slices.Equal(h, columnNames(lineColumns)) {
			t.Errorf("%s header %q", sh, h)
		}
		rows, err := f.GetRows(sh)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) > 4 {
			t.Errorf("%s has %d rows, limit 4", sh, len(rows))
		}
		data := rows[1 : len(rows)-1]
		checkFrozenAndFiltered(t, f, sh, len(data)+1, "N")
		if rows[len(rows)-1][0] != "Total" {
			t.Errorf("%s: last row %q, want the total", sh, rows[len(rows)-1])
		}
		for _, r := range data {
			lines = append(lines, r[0])
		}
	}
	if len(lines) != len(fx.lines) {
		t.Fatalf("%d lines over the sheets, want %d", len(lines), len(fx.lines))
	}
	for i, l := range fx.lines {
		if lines[i] != strconv.Itoa(l.Line) {
			t.Errorf("line %d on the sheets is %q, want %d", i, lines[i], l.Line)
		}
	}
}
