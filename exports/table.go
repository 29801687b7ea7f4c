package exports

import (
	"fmt"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/paydesk/paydesk/gateway"
)

// column is one column of a listing sheet.
type column struct {
	name string
	kind kind
	// max caps the width a long value can push the column to (a detail
	// sentence wraps off-screen rather than making a column a page wide).
	max int
}

// probeRows is how many rows are held back to size the columns: a
// StreamWriter needs the widths before the first row, and a million rows
// cannot be held. Later rows that are wider than these are not measured.
const probeRows = 1000

// table streams a listing into one sheet, or into several ("Lines",
// "Lines 2", ...) when it has more rows than a sheet holds. Each sheet has
// a bold header frozen at the top, an autofilter over its rows, and, for
// tables with totals, a SUBTOTAL row under them that follows the filter.
type table struct {
	b      *book
	base   string
	cols   []column
	totals bool
	// sheetRows is the number of rows a sheet may hold, header and totals
	// included (Excel's 1,048,576; smaller in tests).
	sheetRows int

	probe  [][]any
	tones  []tone
	widths []float64

	sw     *excelize.StreamWriter
	sheet  string
	n      int // sheets started
	row    int // last row written in the current sheet
	rows   int // data rows written in all sheets
	cells  []excelize.Cell
	values []any
}

func (b *book) newTable(base string, cols []column, totals bool) *table {
	t := &table{b: b, base: base, cols: cols, totals: totals, sheetRows: excelize.TotalRows}
	t.cells = make([]excelize.Cell, len(cols))
	t.values = make([]any, len(cols))
	for i := range t.cells {
		t.values[i] = &t.cells[i] // SetRow takes *Cell: one slice reused for every row
	}
	return t
}

// dataRows is how many data rows fit in one sheet.
func (t *table) dataRows() int {
	n := t.sheetRows - 1
	if t.totals {
		n--
	}
	return n
}

// add appends a row. vals match the columns: string, gateway.Money, time.Time,
// int or int64, or nil for an empty cell. vals is not kept.
func (t *table) add(tn tone, vals ...any) error {
	if len(vals) != len(t.cols) {
		return fmt.Errorf("exports: %s: %d values for %d columns", t.base, len(vals), len(t.cols))
	}
	if t.widths == nil {
		t.probe = append(t.probe, append([]any(nil), vals...))
		t.tones = append(t.tones, tn)
		if len(t.probe) < probeRows {
			return nil
		}
		return t.release()
	}
	return t.write(tn, vals)
}

// release sizes the columns from the rows held back and writes them.
func (t *table) release() error {
	t.widths = make([]float64, len(t.cols))
	for i, c := range t.cols {
		w := displayWidth(c.name)
		for _, r := range t.probe {
			w = max(w, t.width(c, r[i]))
		}
		if c.max > 0 {
			w = min(w, c.max)
		}
		// Two characters of padding, and room for the filter button on the
		// header.
		t.widths[i] = float64(w + 3)
	}
	for i, r := range t.probe {
		if err := t.write(t.tones[i], r); err != nil {
			return err
		}
	}
	t.probe, t.tones = nil, nil
	return nil
}

func (t *table) width(c column, v any) int {
	switch v := v.(type) {
	case nil:
		return 0
	case string:
		return displayWidth(v)
	case gateway.Money:
		return len(v.Yuan())
	case time.Time:
		if c.kind == day {
			return len("2006-01-02")
		}
		return len("2006-01-02 15:04:05")
	case int:
		return len(fmt.Sprint(v)) + (len(fmt.Sprint(v))-1)/3
	case int64:
		return len(fmt.Sprint(v)) + (len(fmt.Sprint(v))-1)/3
	}
	return displayWidth(fmt.Sprint(v))
}

func (t *table) write(tn tone, vals []any) error {
	if t.sw == nil || t.row-1 >= t.dataRows() {
		if err := t.nextSheet(); err != nil {
			return err
		}
	}
	t.row++
	styles := &t.b.cell[tn]
	for i, v := range vals {
		c := &t.cells[i]
		c.StyleID, c.Value, c.Formula = styles[t.cols[i].kind], nil, ""
		t.values[i] = c
		switch v := v.(type) {
		case nil:
		case string:
			if v != "" {
				c.Value = v
			}
		case gateway.Money:
			f, err := streamNumber(v)
			if err != nil {
				return fmt.Errorf("%s row %d, %s: %w", t.sheet, t.row, t.cols[i].name, err)
			}
			c.Value = f
		case time.Time:
			if !v.IsZero() {
				c.Value = excelSerial(v, t.b.zone)
			}
		default:
			c.Value = v
		}
		if c.Value == nil && tn == plain {
			// An empty cell without a fill is no cell at all: a million
			// rows of empty refund columns cost nothing.
			t.values[i] = nil
		}
	}
	t.rows++
	return t.sw.SetRow(cellName(1, t.row), t.values)
}

// nextSheet closes the current sheet and starts the next one.
func (t *table) nextSheet() error {
	if err := t.finishSheet(); err != nil {
		return err
	}
	t.n++
	t.sheet = t.base
	if t.n > 1 {
		t.sheet = fmt.Sprintf("%s %d", t.base, t.n)
	}
	if err := t.b.addSheet(t.sheet); err != nil {
		return err
	}
	// Printed, each page repeats the header row.
	if err := t.b.f.SetDefinedName(&excelize.DefinedName{Name: "_xlnm.Print_Titles", RefersTo: fmt.Sprintf("'%s'!$1:$1", t.sheet), Scope: t.sheet}); err != nil {
		return err
	}
	sw, err := t.b.f.NewStreamWriter(t.sheet)
	if err != nil {
		return err
	}
	t.sw = sw
	for i, w := range t.widths {
		if err := sw.SetColWidth(i+1, i+1, w); err != nil {
			return err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	head := make([]any, len(t.cols))
	for i, c := range t.cols {
		head[i] = excelize.Cell{StyleID: t.b.header, Value: c.name}
	}
	t.row = 1
	return sw.SetRow("A1", head, excelize.RowOpts{Height: 20})
}

// finishSheet writes the totals row and the autofilter of the current
// sheet, and flushes it.
func (t *table) finishSheet() error {
	if t.sw == nil {
		return nil
	}
	last := t.row
	lastCol, _ := excelize.ColumnNumberToName(len(t.cols))
	if t.totals {
		vals := make([]any, len(t.cols))
		for i, c := range t.cols {
			cell := excelize.Cell{StyleID: t.b.total[c.kind]}
			switch {
			case i == 0:
				cell.Value = "Total"
				cell.StyleID = t.b.total[text]
			case c.kind == money && last > 1:
				// SUBTOTAL(9, ...) sums the rows the filter shows, so the
				// total follows whatever a person filters on.
				col, _ := excelize.ColumnNumberToName(i + 1)
				cell.Formula = fmt.Sprintf("SUBTOTAL(9,%s2:%s%d)", col, col, last)
			}
			vals[i] = cell
		}
		if err := t.sw.SetRow(cellName(1, last+1), vals); err != nil {
			return err
		}
	}
	if err := t.b.f.AutoFilter(t.sheet, fmt.Sprintf("A1:%s%d", lastCol, last), nil); err != nil {
		return err
	}
	err := t.sw.Flush()
	t.sw = nil
	return err
}

// close writes what is held back and finishes the last sheet. A table with
// no rows still gets its sheet, with the header.
func (t *table) close() error {
	if t.widths == nil {
		if err := t.release(); err != nil {
			return err
		}
	}
	if t.sw == nil {
		if err := t.nextSheet(); err != nil {
			return err
		}
	}
	if err := t.finishSheet(); err != nil {
		return err
	}
	t.b.rows += t.rows
	return nil
}

// excelSerial is t's wall clock in zone (the clock the bills print) as a
// spreadsheet date: days since 1899-12-30, the time of day as the fraction.
// Written as a number excelize passes through, it skips the work excelize
// does per time value (a workbook lookup and a style check on every cell).
//
// The value is nudged 2e-10 of a day (17 µs) above the exact second:
// excelize prints numbers with 15 significant digits, cutting rather than
// rounding, which leaves a date of this century 1e-10 of a day of
// resolution, and LibreOffice shows a time a hair below 10:00:00 as
// 09:59:59. Above the second, every program shows the second itself.
func excelSerial(t time.Time, zone *time.Location) float64 {
	const unixEpoch = 25569 // 1970-01-01
	_, offset := t.In(zone).Zone()
	return float64(t.Unix()+int64(offset))/86400 + unixEpoch + 2e-10
}

func cellName(col, row int) string {
	s, _ := excelize.CoordinatesToCellName(col, row)
	return s
}
