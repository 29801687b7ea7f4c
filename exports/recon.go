package exports

import (
	"encoding/json"
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

// Recon is what a reconciliation report is made from. ops loads it; the
// report reads nothing else.
type Recon struct {
	// Run is the run as store.GetRun returns it, with its Bill and its
	// Resolved counts.
	Run store.Run
	// Findings are the run's findings in report order (store.ListFindings).
	Findings []store.Finding
	// OpenBill re-opens the run's kept bill file. done is called after the
	// last line has been read, and may fail (for example when the file's
	// hash is no longer the one the run reconciled); it also releases the
	// file, and is called on every path once OpenBill has succeeded.
	OpenBill func() (lines gateway.BillReader, done func(readAll bool) error, err error)
	// OpenFunds is OpenBill for a fund-flow run's fund bill.
	OpenFunds func() (lines gateway.FundReader, done func(readAll bool) error, err error)
	// Funds is the day's current fund-flow run, for a trade run's report
	// (its Funds sheet); nil when the day has none.
	Funds *FundRun
	// Zone is the business zone; times are written as its wall clock.
	Zone *time.Location
	// ExportedAt and ExportedBy are printed on the Summary.
	ExportedAt time.Time
	ExportedBy string
}

// Sheet names of the report.
const (
	SummarySheet  = "Summary"
	FindingsSheet = "Findings"
	LinesSheet    = "Lines"
	SuspenseSheet = "Suspense"
)

// ReconReport writes the workbook of one reconciliation run to w: Summary
// (the run, per-category counts and amounts with a chart, the bill's
// stated and computed totals, fees and net settlement, the fees charged
// beside those the contracted rate gives, open and resolved findings),
// Findings (one row per finding, coloured by severity, with a total row,
// and Finding, Run, Resolution and Note columns a person may edit and
// import back), Suspense (CROSS_DAY items carried, settled and the
// notices, when there are any), Lines (every line of the bill with its
// result, streamed, continued on "Lines 2", "Lines 3"... past Excel's row
// limit), and Funds (the day's fund-flow run, when there is one). A
// fund-flow run's report is its own: see fundReport.
func ReconReport(w io.Writer, in Recon) (Result, error) {
	return reconReport(w, in, excelize.TotalRows)
}

// reconReport is ReconReport with the rows a sheet holds, so tests can
// split the Lines sheet without writing a million lines.
func reconReport(w io.Writer, in Recon, sheetRows int) (Result, error) {
	run := in.Run
	if run.Bill == nil {
		return Result{}, fmt.Errorf("run %d: no bill loaded", run.ID)
	}
	if run.Kind == store.BillFunds {
		return fundReport(w, in, sheetRows)
	}
	if in.OpenBill == nil {
		return Result{}, fmt.Errorf("run %d: no way to read its bill file", run.ID)
	}
	b, err := newBook(in.Zone, excelize.DocProperties{
		Title:       fmt.Sprintf("Reconciliation %s %s", run.Channel, run.Day),
		Subject:     fmt.Sprintf("paydesk reconciliation run %d", run.ID),
		Description: fmt.Sprintf("Bill %s (sha256 %s)", run.Bill.FileName, run.Bill.SHA256),
	})
	if err != nil {
		return Result{}, err
	}
	defer b.f.Close() // a failed export leaves no spill files
	if err := b.addSheet(SummarySheet); err != nil {
		return Result{}, err
	}
	if err := b.fitWidth(SummarySheet); err != nil {
		return Result{}, err
	}
	if err := writeFindings(b, in.Findings); err != nil {
		return Result{}, err
	}
	carry, err := carried(run)
	if err != nil {
		return Result{}, err
	}
	hasSuspense := len(carry)+len(run.Settled)+len(run.Notices) > 0
	if hasSuspense {
		if err := writeSuspense(b, carry, run); err != nil {
			return Result{}, err
		}
	}
	lines, err := writeLines(b, in, sheetRows)
	if err != nil {
		return Result{}, err
	}
	if lines != run.Lines && run.Lines != 0 {
		return Result{}, fmt.Errorf("bill %s has %d lines, but run %d reconciled %d: the kept file is not the one reconciled",
			run.Bill.FileName, lines, run.ID, run.Lines)
	}
	if err := writeSummary(b, in, len(carry), hasSuspense); err != nil {
		return Result{}, err
	}
	if in.Funds != nil {
		if err := writeFundsSheet(b, *in.Funds); err != nil {
			return Result{}, err
		}
	}
	if err := b.write(w); err != nil {
		return Result{}, err
	}
	return b.result(), nil
}

// signedAmount is a finding's money as Run.Counts counts it: the bill's
// amount where the bill has the item, else paydesk's; refunds negative.
func signedAmount(f store.Finding) gateway.Money {
	if recon.Category(f.Category).Kind() == recon.RunFunds {
		// Fund findings are signed as the account moves; a booking with no
		// movement counts what was expected.
		if f.Side == string(recon.SideLocal) {
			return f.LocalAmount
		}
		return f.PlatformAmount
	}
	m := f.LocalAmount
	if onBill(f) {
		m = f.PlatformAmount
	}
	if f.Kind == string(gateway.LineRefund) {
		return -m
	}
	return m
}

// onBill reports whether the platform side of a finding has a bill line.
func onBill(f store.Finding) bool {
	return f.BillLine > 0 || f.PlatformStatus != "" || f.PlatformAmount != 0
}

// amountOn is a side's amount, or nil (an empty cell) when that side has no
// record: "no payment" and "a payment of ¥0.00" are not the same thing.
func amountOn(has bool, m gateway.Money) any {
	if !has {
		return nil
	}
	return m
}

// findingColumns are the Findings sheet's. Finding and Run identify each
// row for `paydesk recon import-resolutions`, which reads Resolution and
// Note back (by these names); a person edits those two.
var findingColumns = []column{
	{name: FindingIDColumn, kind: count},
	{name: RunColumn, kind: count},
	{name: "Severity", kind: text},
	{name: "Category", kind: text},
	{name: "Kind", kind: text},
	{name: "Side", kind: text},
	{name: "First day", kind: day},
	{name: "out_trade_no", kind: text},
	{name: "trade_no", kind: text},
	{name: "out_request_no", kind: text},
	{name: "flow_no", kind: text},
	{name: "Local amount", kind: money},
	{name: "Platform amount", kind: money},
	{name: "Counted amount", kind: money},
	{name: "Local status", kind: text},
	{name: "Platform status", kind: text},
	{name: "Callback", kind: text},
	{name: "Bill line", kind: count},
	{name: ResolutionColumn, kind: text},
	{name: NoteColumn, kind: text, max: 40},
	{name: "Resolver", kind: text},
	{name: "Resolved at", kind: stamp},
	{name: "Usual action", kind: text, max: 45},
	{name: "Detail", kind: text, max: 80},
}

// Names of the Findings columns the resolution import reads.
const (
	FindingIDColumn  = "Finding"
	RunColumn        = "Run"
	ResolutionColumn = "Resolution"
	NoteColumn       = "Note"
)

// Resolution values a person may write in the Resolution column.
const (
	ResolutionOpen     = "open"
	ResolutionResolved = "resolved"
	ResolutionIgnored  = "ignored"
)

// Columns of findingColumns that tests and the Summary's cross-check
// formulas refer to.
var (
	findingCategoryCol = columnLetter(findingColumns, "Category")
	findingCountedCol  = columnLetter(findingColumns, "Counted amount")
)

// columnLetter is the spreadsheet letter of the named column.
func columnLetter(cols []column, name string) string {
	for i, c := range cols {
		if c.name == name {
			l, _ := excelize.ColumnNumberToName(i + 1)
			return l
		}
	}
	panic("exports: no column " + name)
}

func writeFindings(b *book, fs []store.Finding) error {
	t := b.newTable(FindingsSheet, findingColumns, true)
	for _, f := range fs {
		res := f.Resolution
		if res == "" {
			res = ResolutionOpen
		}
		var line any
		if f.BillLine > 0 {
			line = f.BillLine
		}
		if err := t.add(toneOf(f.Severity), f.ID, f.RunID,
			f.Severity, f.Category, f.Kind, f.Side, dayValue(f.FirstDay, b.zone),
			f.OutTradeNo, f.TradeNo, f.OutRequestNo, f.FlowNo,
			amountOn(f.LocalStatus != "" || f.LocalAmount != 0, f.LocalAmount),
			amountOn(onBill(f), f.PlatformAmount),
			signedAmount(f),
			f.LocalStatus, f.PlatformStatus, f.NotifyStatus, line,
			res, gateway.MaskBuyerIDs(f.Note), f.Resolver, f.ResolvedAt,
			recon.Category(f.Category).Action(), gateway.MaskBuyerIDs(f.Detail),
		); err != nil {
			return err
		}
	}
	return t.close()
}

var suspenseColumns = []column{
	{name: "List", kind: text},
	{name: "Category", kind: text},
	{name: "Kind", kind: text},
	{name: "Side", kind: text},
	{name: "First day", kind: day},
	{name: "out_trade_no", kind: text},
	{name: "trade_no", kind: text},
	{name: "out_request_no", kind: text},
	{name: "Local amount", kind: money},
	{name: "Platform amount", kind: money},
	{name: "Bill line", kind: count},
	{name: "Detail", kind: text, max: 80},
}

// writeSuspense lists the run's suspense: what it carries to the next day,
// what it settled from earlier days, and the notices (matched, but worth a
// look). None of these are findings of the run.
func writeSuspense(b *book, carry []store.Finding, run store.Run) error {
	t := b.newTable(SuspenseSheet, suspenseColumns, false)
	for _, l := range []struct {
		name string
		fs   []store.Finding
	}{{"carried to next day", carry}, {"settled by this run", run.Settled}, {"notice", run.Notices}} {
		for _, f := range l.fs {
			var line any
			if f.BillLine > 0 {
				line = f.BillLine
			}
			if err := t.add(toneOf(f.Severity), l.name, f.Category, f.Kind, f.Side, dayValue(f.FirstDay, b.zone),
				f.OutTradeNo, f.TradeNo, f.OutRequestNo,
				amountOn(f.LocalStatus != "" || f.LocalAmount != 0, f.LocalAmount),
				amountOn(onBill(f), f.PlatformAmount), line, gateway.MaskBuyerIDs(f.Detail)); err != nil {
				return err
			}
		}
	}
	return t.close()
}

// carried decodes the suspense a run hands to the next day: the store keeps
// it as recon wrote it.
func carried(run store.Run) ([]store.Finding, error) {
	if len(run.Carry) == 0 {
		return nil, nil
	}
	var fs []recon.Finding
	if err := json.Unmarshal(run.Carry, &fs); err != nil {
		return nil, fmt.Errorf("run %d: suspense unreadable: %w", run.ID, err)
	}
	out := make([]store.Finding, len(fs))
	for i, f := range fs {
		// Day went through JSON with its offset, so its date is still the
		// business date.
		out[i] = store.Finding{Channel: f.Channel, FirstDay: f.Day.Format(store.DayFormat), Category: string(f.Category),
			Severity: string(f.Severity), Kind: string(f.Kind), Side: string(f.Side), OutTradeNo: f.OutTradeNo, TradeNo: f.TradeNo,
			OutRequestNo: f.OutRequestNo, LocalAmount: f.LocalAmount, PlatformAmount: f.PlatformAmount, LocalStatus: f.LocalStatus,
			PlatformStatus: f.PlatformStatus, NotifyStatus: f.NotifyStatus, BillLine: f.BillLine, Detail: f.Detail}
	}
	return out, nil
}

var lineColumns = []column{
	{name: "Line", kind: count},
	{name: "Kind", kind: text},
	{name: "Time", kind: stamp},
	{name: "trade_no", kind: text},
	{name: "out_trade_no", kind: text},
	{name: "out_request_no", kind: text},
	{name: "Refund id", kind: text},
	{name: "Subject", kind: text, max: 40},
	// The bill's own state column (交易/退款, SUCCESS/REFUND) is left out:
	// Kind says the same in one vocabulary for both platforms, and a
	// column less is a tenth less work on a million lines.
	{name: "Amount", kind: money},
	{name: "Net", kind: money},
	{name: "Fee", kind: money},
	{name: "Result", kind: text},
	{name: "Severity", kind: text},
	{name: "Note", kind: text, max: 60},
}

// lineKey identifies a booking across days, to tell which of today's lines
// settled a CROSS_DAY item held on an earlier day.
type lineKey struct{ kind, outTradeNo, outRequestNo string }

// writeLines re-reads the bill and writes every line with its result: the
// category of the finding made from that line (findings of this run's day
// carry the line number), else MATCHED. It returns the number of lines.
func writeLines(b *book, in Recon, sheetRows int) (int, error) {
	run := in.Run
	byLine := make(map[int]*store.Finding)
	for i := range in.Findings {
		f := &in.Findings[i]
		// A suspense item found on an earlier day names a line of that
		// day's bill, not of this one.
		if f.BillLine > 0 && (f.FirstDay == "" || f.FirstDay == run.Day) {
			byLine[f.BillLine] = f
		}
	}
	// A line that settled a local booking held on an earlier day (paydesk
	// booked before midnight, the platform after) is matched here; the note
	// says which day's item it settled.
	settles := make(map[lineKey]store.Finding)
	for _, f := range run.Settled {
		if f.Side == string(recon.SideLocal) {
			settles[lineKey{f.Kind, f.OutTradeNo, f.OutRequestNo}] = f
		}
	}
	lines, done, err := in.OpenBill()
	if err != nil {
		return 0, fmt.Errorf("open bill %s: %w", run.Bill.FileName, err)
	}
	n, err := streamLines(b, lines, byLine, settles, sheetRows)
	if derr := done(err == nil); err == nil && derr != nil {
		err = derr
	}
	return n, err
}

// lineChunk is how many bill lines the parser hands over at a time.
const lineChunk = 4096

func streamLines(b *book, lines gateway.BillReader, byLine map[int]*store.Finding, settles map[lineKey]store.Finding, sheetRows int) (int, error) {
	t := b.newTable(LinesSheet, lineColumns, true)
	t.sheetRows = sheetRows
	// The bill is parsed on the other core while this one writes rows:
	// each is about half the work of a million-line export.
	chunks := make(chan []gateway.BillLine, 4)
	stop := make(chan struct{})
	parsed := make(chan error, 1)
	go func() {
		defer close(chunks)
		parsed <- parseChunks(lines, chunks, stop)
	}()
	defer func() {
		close(stop)
		for range chunks {
		}
	}()
	n := 0
	for chunk := range chunks {
		for i := range chunk {
			l := &chunk[i]
			n++
			result, severity, note, tn := string(recon.Matched), "", "", plain
			if f, ok := byLine[l.Line]; ok {
				result, severity, note, tn = f.Category, f.Severity, gateway.MaskBuyerIDs(f.Detail), toneOf(f.Severity)
			} else if len(settles) > 0 {
				if f, ok := settles[lineKey{string(l.Kind), l.OutTradeNo, l.OutRequestNo}]; ok {
					note = "settles the CROSS_DAY item held on " + f.FirstDay
				}
			}
			var requestNo, refundID string
			if l.Kind == gateway.LineRefund {
				requestNo, refundID = l.OutRequestNo, l.RefundID
			}
			if err := t.add(tn, l.Line, kindName(l.Kind), l.Time, l.TradeNo, l.OutTradeNo, requestNo, refundID,
				l.Subject, l.Amount, l.Net, l.Fee, result, severity, note); err != nil {
				return n, err
			}
		}
	}
	if err := <-parsed; err != nil {
		return n, err
	}
	return n, t.close()
}

// parseChunks reads every line of a bill into chunks until the end, an
// error, or stop.
func parseChunks(lines gateway.BillReader, chunks chan<- []gateway.BillLine, stop <-chan struct{}) error {
	chunk := make([]gateway.BillLine, 0, lineChunk)
	for {
		l, err := lines.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		chunk = append(chunk, *l)
		if len(chunk) == lineChunk {
			select {
			case chunks <- chunk:
			case <-stop:
				return nil
			}
			chunk = make([]gateway.BillLine, 0, lineChunk)
		}
	}
	if len(chunk) > 0 {
		select {
		case chunks <- chunk:
		case <-stop:
		}
	}
	return nil
}

// dayValue is a stored business date ("2026-11-22") as a date cell, or the
// text as it is when it is not one.
func dayValue(s string, zone *time.Location) any {
	if s == "" {
		return nil
	}
	t, err := time.ParseInLocation(store.DayFormat, s, zone)
	if err != nil {
		return s
	}
	return t
}

func kindName(k gateway.LineKind) string {
	switch k {
	case gateway.LinePayment:
		return "payment"
	case gateway.LineRefund:
		return "refund"
	}
	return string(k)
}

// Summary layout: the rows where its blocks start, so tests and formulas
// can find them.
const (
	summaryCategoryRow = 18 // header of the per-category table
)

func writeSummary(b *book, in Recon, carried int, hasSuspense bool) error {
	f, run, bill, sh := b.f, in.Run, in.Run.Bill, SummarySheet
	sw := &sheetWriter{b: b, sheet: sh}
	set, formula := sw.set, sw.formula
	plainText, moneyStyle, stampStyle, countStyle := b.cell[plain][text], b.cell[plain][money], b.cell[plain][stamp], b.cell[plain][count]

	set("A1", fmt.Sprintf("Reconciliation of %s for %s", run.Channel.DisplayName(), run.Day), b.title)
	kv := []struct {
		k     string
		v     any
		style int
	}{
		{"Channel", string(run.Channel), plainText},
		{"Business date", run.Day, plainText},
		{"Bill source", bill.Source, plainText},
		{"Bill file", bill.FileName, plainText},
		{"Bill sha256", bill.SHA256, plainText},
		{"Bill lines", run.Lines, countStyle},
		{"Local orders", run.Orders, countStyle},
		{"Run", "#" + strconv.FormatInt(run.ID, 10), plainText},
		{"Run started", run.StartedAt, stampStyle},
		{"Run finished", run.FinishedAt, stampStyle},
		{"Run by", run.Operator, plainText},
		{"Exported at", in.ExportedAt, stampStyle},
		{"Exported by", in.ExportedBy, plainText},
	}
	for i, e := range kv {
		r := 3 + i
		set(cellName(1, r), e.k, b.label)
		set(cellName(2, r), e.v, e.style)
	}
	if run.Superseded != 0 {
		set("C10", fmt.Sprintf("superseded by run #%d: its findings are that run's now", run.Superseded), b.warn)
	}

	// Per category: the run's own figures, and the same sums taken from the
	// Findings sheet by formula, so a reader can see the two agree.
	r := summaryCategoryRow
	for i, h := range []string{"Category", "Severity", "Count", "Amount", "On Findings sheet", "Usual action"} {
		set(cellName(1+i, r), h, b.header)
	}
	first := r + 1
	for _, c := range recon.Categories {
		r++
		ct := run.Counts[string(c)]
		set(cellName(1, r), string(c), plainText)
		set(cellName(2, r), string(c.Severity()), b.cell[toneOf(string(c.Severity()))][text])
		set(cellName(3, r), ct.Count, countStyle)
		set(cellName(4, r), ct.Amount, moneyStyle)
		if c != recon.Matched {
			formula(cellName(5, r), fmt.Sprintf(`SUMIFS('%s'!%s:%s,'%s'!%s:%s,A%d)`, FindingsSheet, findingCountedCol, findingCountedCol,
				FindingsSheet, findingCategoryCol, findingCategoryCol, r), moneyStyle)
		}
		set(cellName(6, r), c.Action(), plainText)
	}
	last := r
	r++
	set(cellName(1, r), "Total", b.total[text])
	formula(cellName(3, r), fmt.Sprintf("SUM(C%d:C%d)", first, last), b.total[count])
	formula(cellName(4, r), fmt.Sprintf("SUM(D%d:D%d)", first, last), b.total[money])
	formula(cellName(5, r), fmt.Sprintf("SUM(E%d:E%d)", first, last), b.total[money])
	set(cellName(2, r), nil, b.total[text])
	set(cellName(6, r), nil, b.total[text])
	if sw.err == nil {
		sw.err = f.SetColWidth(sh, "A", "A", 22)
	}

	// The bill against itself: the totals it states and the sums of its
	// lines; the difference column must be all zero.
	r += 2
	for i, h := range []string{"Bill totals", "Stated", "Computed", "Difference"} {
		set(cellName(1+i, r), h, b.header)
	}
	for _, e := range []struct {
		k                string
		stated, computed gateway.Money
		count            bool
	}{
		{"Payments", gateway.Money(bill.Stated.Payments), gateway.Money(bill.Computed.Payments), true},
		{"Payment amount", bill.Stated.PaymentAmount, bill.Computed.PaymentAmount, false},
		{"Refunds", gateway.Money(bill.Stated.Refunds), gateway.Money(bill.Computed.Refunds), true},
		{"Refund amount", bill.Stated.RefundAmount, bill.Computed.RefundAmount, false},
		{"Fees", bill.Stated.Fees, bill.Computed.Fees, false},
		{"Net before fees", bill.Stated.Net, bill.Computed.Net, false},
	} {
		r++
		style := moneyStyle
		var stated, computed any = e.stated, e.computed
		if e.count {
			style, stated, computed = countStyle, int64(e.stated), int64(e.computed)
		}
		set(cellName(1, r), e.k, plainText)
		set(cellName(3, r), computed, style)
		// A layout that does not state a figure reads as 0 (BillTotals).
		// A stated 0 beside lines that sum to something else cannot be
		// a stated figure: the bill reader refuses a bill whose stated
		// totals disagree with its lines, so it was never stated.
		if e.stated == 0 && e.computed != 0 {
			set(cellName(2, r), "not stated", b.cell[plain][text])
			continue
		}
		set(cellName(2, r), stated, style)
		formula(cellName(4, r), fmt.Sprintf("C%d-B%d", r, r), style)
	}
	// Settlement.
	r += 2
	for i, h := range []string{"Settlement", "Amount"} {
		set(cellName(1+i, r), h, b.header)
	}
	for _, e := range []struct {
		k string
		v gateway.Money
	}{{"Net before fees", bill.Computed.Net}, {"Service fees", run.Fees}, {"Net settlement", run.Net}} {
		r++
		set(cellName(1, r), e.k, plainText)
		set(cellName(2, r), e.v, moneyStyle)
	}
	r += 2
	r = feeRows(sw, r, run)

	// Resolution of the findings.
	r += 2
	for i, h := range []string{"Findings", "Count"} {
		set(cellName(1+i, r), h, b.header)
	}
	total := 0
	for _, res := range []string{"open", "resolved", "ignored"} {
		r++
		total += run.Resolved[res]
		set(cellName(1, r), res, plainText)
		set(cellName(2, r), run.Resolved[res], countStyle)
	}
	r++
	set(cellName(1, r), "Total", b.total[text])
	set(cellName(2, r), total, b.total[count])
	if hasSuspense {
		r += 2
		set(cellName(1, r), fmt.Sprintf("Suspense: %d carried to the next day, %d settled by this run, %d notices (sheet %s)",
			carried, len(run.Settled), len(run.Notices), SuspenseSheet), plainText)
	}
	if sw.err != nil {
		return sw.err
	}
	if err := f.SetColWidth(sh, "B", "B", 22); err != nil {
		return err
	}
	if err := f.SetColWidth(sh, "C", "E", 18); err != nil {
		return err
	}
	if err := f.SetColWidth(sh, "F", "F", 44); err != nil {
		return err
	}
	return addCategoryChart(f, cellName(1, r+2), first, last-1) // Categories ends with MATCHED
}

// addCategoryChart draws the amount of each category but MATCHED as a bar,
// under the tables (beside them it would shrink the printed page). MATCHED
// is left out because it dwarfs the rest: beside a day's takings the
// amounts that need a person would not show at all.
func addCategoryChart(f *excelize.File, at string, first, last int) error {
	none := false
	black := excelize.Font{Color: "000000"}
	return f.AddChart(SummarySheet, at, &excelize.Chart{
		Type: excelize.Bar,
		Series: []excelize.ChartSeries{{
			Name:       fmt.Sprintf("'%s'!$D$%d", SummarySheet, summaryCategoryRow),
			Categories: fmt.Sprintf("'%s'!$A$%d:$A$%d", SummarySheet, first, last),
			Values:     fmt.Sprintf("'%s'!$D$%d:$D$%d", SummarySheet, first, last),
		}},
		Title:      excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: "Amounts not matched, by category (¥)"}}},
		Legend:     excelize.ChartLegend{Position: "none"},
		VaryColors: &none,
		Dimension:  excelize.ChartDimension{Width: 760, Height: 340},
		YAxis:      excelize.ChartAxis{NumFmt: excelize.ChartNumFmt{CustomNumFmt: `"¥"#,##0.00`}, Font: black},
		XAxis:      excelize.ChartAxis{ReverseOrder: true, Font: black},
	})
}
