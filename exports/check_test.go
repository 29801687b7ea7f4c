package exports

import (
	"archive/zip"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/paydesk/paydesk/gateway"
)

// workbook opens a written file the way a reader would.
func workbook(t testing.TB, path string) *excelize.File {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// wantDecimal is fen/100 as the exact decimal a number cell must store,
// written here independently of the package's own formatting.
func wantDecimal(m gateway.Money) string {
	v, sign := int64(m), ""
	if v < 0 {
		v, sign = -v, "-"
	}
	s := sign + strconv.FormatInt(v/100, 10) + "." + fmt.Sprintf("%02d", v%100)
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}

// checkMoney asserts that a cell is a number (no string type) whose stored
// text is exactly m in yuan, formatted with the ¥ money format.
func checkMoney(t testing.TB, f *excelize.File, sheet, cell string, m gateway.Money) {
	t.Helper()
	typ, err := f.GetCellType(sheet, cell)
	if err != nil {
		t.Fatal(err)
	}
	if typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
		t.Errorf("%s!%s: cell type %v, want a number", sheet, cell, typ)
	}
	raw, err := f.GetCellValue(sheet, cell, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := wantDecimal(m); raw != want {
		t.Errorf("%s!%s = %q, want exactly %q (%d fen)", sheet, cell, raw, want, int64(m))
	}
	checkFormat(t, f, sheet, cell, MoneyFormat)
}

func checkFormat(t testing.TB, f *excelize.File, sheet, cell, format string) {
	t.Helper()
	id, err := f.GetCellStyle(sheet, cell)
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.GetStyle(id)
	if err != nil {
		t.Fatal(err)
	}
	if st.CustomNumFmt == nil || *st.CustomNumFmt != format {
		got := "<none>"
		if st.CustomNumFmt != nil {
			got = *st.CustomNumFmt
		}
		t.Errorf("%s!%s: number format %q, want %q", sheet, cell, got, format)
	}
}

// checkTime asserts that a cell is a date serial showing want's wall clock
// in the business zone, with the date-time format.
func checkTime(t testing.TB, f *excelize.File, sheet, cell string, want time.Time) {
	t.Helper()
	raw, err := f.GetCellValue(sheet, cell, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	serial, err := parseSerial(raw)
	if err != nil {
		t.Fatalf("%s!%s = %q: not a date serial: %v", sheet, cell, raw, err)
	}
	// Spreadsheet programs show the whole second below the value (some
	// cut, some round): it must be the time itself, to the second.
	_, offset := want.In(zone).Zone()
	wantSecs := want.Unix() + int64(offset) + 25569*86400
	gotSecs := (serial) * 86400
	if int64(math.Floor(gotSecs)) != wantSecs || gotSecs-float64(wantSecs) > 0.001 {
		t.Errorf("%s!%s = %s: shows %s, want %s (business zone wall clock)", sheet, cell, raw,
			time.Unix(int64(math.Floor(gotSecs))-25569*86400, 0).UTC().Format(time.DateTime), want.In(zone).Format(time.DateTime))
	}
}

// parseSerial reads a date serial (days since 1899-12-30, a fraction for
// the time of day). Dates are not money, so a float is what they are.
func parseSerial(s string) (float64, error) {
	return strconv.ParseFloat(s, 64)
}

// header returns the first row of a sheet.
func header(t testing.TB, f *excelize.File, sheet string) []string {
	t.Helper()
	rows, err := f.Rows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if !rows.Next() {
		t.Fatalf("%s: empty", sheet)
	}
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	return cols
}

func colOf(t testing.TB, head []string, name string) string {
	t.Helper()
	for i, h := range head {
		if h == name {
			c, _ := excelize.ColumnNumberToName(i + 1)
			return c
		}
	}
	t.Fatalf("no column %q in %q", name, head)
	return ""
}

func checkFrozenAndFiltered(t testing.TB, f *excelize.File, sheet string, lastRow int, lastCol string) {
	t.Helper()
	p, err := f.GetPanes(sheet)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Freeze || p.YSplit != 1 || p.TopLeftCell != "A2" {
		t.Errorf("%s: panes %+v, want the header row frozen", sheet, p)
	}
	want := "'" + sheet + "'!$A$1:$" + lastCol + "$" + strconv.Itoa(lastRow)
	for _, d := range f.GetDefinedName() {
		if d.Name == "_xlnm._FilterDatabase" && d.Scope == sheet {
			if strings.ReplaceAll(d.RefersTo, "$", "") != strings.ReplaceAll(want, "$", "") {
				t.Errorf("%s: autofilter over %s, want %s", sheet, d.RefersTo, want)
			}
			return
		}
	}
	t.Errorf("%s: no autofilter", sheet)
}

// zipPart returns one part of an xlsx file.
func zipPart(t testing.TB, path, name string) string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	rc, err := zr.Open(name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// convertWithLibreOffice opens the workbook in LibreOffice (headless) and
// converts it to PDF: proof that a real spreadsheet program reads it. It
// skips, saying why, where LibreOffice is not installed.
func convertWithLibreOffice(t testing.TB, xlsx string) string {
	t.Helper()
	soffice, err := exec.LookPath("soffice")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("soffice not found on CI: .ci/run installs libreoffice-calc")
		}
		t.Skip("soffice (LibreOffice) is not installed: apt-get install libreoffice-calc to run this check")
	}
	out := t.TempDir()
	profile := "file://" + filepath.Join(t.TempDir(), "lo-profile")
	cmd := exec.Command(soffice, "-env:UserInstallation="+profile, "--headless", "--norestore", "--convert-to", "pdf", "--outdir", out, xlsx)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("soffice: %v\n%s", err, b)
	}
	pdf := filepath.Join(out, strings.TrimSuffix(filepath.Base(xlsx), ".xlsx")+".pdf")
	fi, err := os.Stat(pdf)
	if err != nil {
		t.Fatalf("LibreOffice wrote no PDF: %v", err)
	}
	if fi.Size() < 1000 {
		t.Fatalf("LibreOffice wrote a %d-byte PDF", fi.Size())
	}
	return pdf
}
