package exports

import (
	"archive/zip"
	"fmt"
	"io"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/width"

	"github.com/paydesk/paydesk/gateway"
)

// Number formats. The money format puts the ¥ sign in quotes so that every
// spreadsheet program shows it whatever its locale's currency; negative
// amounts are red with a minus sign, as accountants read refunds.
const (
	MoneyFormat = `"¥"#,##0.00;[Red]-"¥"#,##0.00`
	TimeFormat  = "yyyy-mm-dd hh:mm:ss"
	DayFormat   = "yyyy-mm-dd"
	countFormat = 3 // built-in #,##0
)

// tone is a row's colour: the severity of the finding it shows.
type tone int

const (
	plain tone = iota
	critical
	warning
	info
	numTones
)

// toneOf maps a finding severity (recon.Severity values) to a colour.
func toneOf(severity string) tone {
	switch severity {
	case "critical":
		return critical
	case "warning":
		return warning
	case "info":
		return info
	}
	return plain
}

// Row fills and font colours per tone: Excel's own "bad", "neutral" and a
// light blue, which print legibly in black and white too.
var toneColours = [numTones]struct{ fill, font string }{
	plain:    {"", ""},
	critical: {"FFC7CE", "9C0006"},
	warning:  {"FFEB9C", "9C5700"},
	info:     {"DDEBF7", "1F3864"},
}

// kind is what a column holds, and so how its cells are written.
type kind int

const (
	text  kind = iota
	money      // gateway.Money (or nil: no amount on that side)
	stamp      // time.Time as date and time in the zone (zero: blank)
	day        // time.Time as a date
	count      // int or int64
	numKinds
)

// book is one workbook being written, with its styles.
type book struct {
	f      *excelize.File
	zone   *time.Location
	cell   [numTones][numKinds]int // style ids of body cells
	header int
	title  int
	label  int
	total  [numKinds]int
	warn   int // a note that needs attention (Summary)
	sheets []string
	rows   int
}

func newBook(zone *time.Location, props excelize.DocProperties) (*book, error) {
	if zone == nil {
		zone = gateway.Shanghai
	}
	f := excelize.NewFile()
	b := &book{f: f, zone: zone}
	if props.Creator == "" {
		props.Creator = "paydesk"
	}
	if err := f.SetDocProps(&props); err != nil {
		return nil, err
	}
	if err := b.makeStyles(); err != nil {
		return nil, err
	}
	return b, nil
}

func (b *book) makeStyles() error {
	moneyFmt, timeFmt, dayFmt := MoneyFormat, TimeFormat, DayFormat
	var err error
	style := func(s *excelize.Style) int {
		if err != nil {
			return 0
		}
		var id int
		id, err = b.f.NewStyle(s)
		return id
	}
	base := func(k kind, s *excelize.Style) *excelize.Style {
		switch k {
		case money:
			s.CustomNumFmt = &moneyFmt
		case stamp:
			s.CustomNumFmt = &timeFmt
		case day:
			s.CustomNumFmt = &dayFmt
		case count:
			s.NumFmt = countFormat
		}
		return s
	}
	for t := range numTones {
		for k := range numKinds {
			s := base(k, &excelize.Style{})
			if c := toneColours[t]; c.fill != "" {
				s.Fill = excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{c.fill}}
				s.Font = font(false, 11, c.font)
			}
			b.cell[t][k] = style(s)
		}
	}
	b.header = style(&excelize.Style{
		Font:      font(true, 11, ""),
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"D9E1F2"}},
		Border:    []excelize.Border{{Type: "bottom", Color: "8EA9DB", Style: 2}},
		Alignment: &excelize.Alignment{Vertical: "center"},
	})
	b.title = style(&excelize.Style{Font: font(true, 14, "")})
	b.label = style(&excelize.Style{Font: font(true, 11, "")})
	b.warn = style(&excelize.Style{Font: font(true, 11, "9C0006")})
	for k := range numKinds {
		b.total[k] = style(base(k, &excelize.Style{
			Font:   font(true, 11, ""),
			Border: []excelize.Border{{Type: "top", Color: "000000", Style: 1}, {Type: "bottom", Color: "000000", Style: 6}},
		}))
	}
	return err
}

// font names the workbook's default face: a style with a font but no face
// is drawn in some programs' fallback serif (LibreOffice's).
func font(bold bool, size float64, colour string) *excelize.Font {
	return &excelize.Font{Bold: bold, Size: size, Color: colour, Family: "Calibri"}
}

// addSheet adds a sheet (the first one takes the place of excelize's
// default "Sheet1").
func (b *book) addSheet(name string) error {
	if len(b.sheets) == 0 {
		if err := b.f.SetSheetName("Sheet1", name); err != nil {
			return err
		}
	} else if _, err := b.f.NewSheet(name); err != nil {
		return err
	}
	b.sheets = append(b.sheets, name)
	landscape := "landscape"
	return b.f.SetPageLayout(name, &excelize.PageLayoutOptions{Orientation: &landscape})
}

// fitWidth makes a sheet print one page wide (the Summary: a figure cut off
// onto a second page is easy to miss). Listings are too wide for that to
// stay legible; they print across pages under a repeated header instead.
// Set before a StreamWriter starts, since it writes the sheet properties
// first.
func (b *book) fitWidth(sheet string) error {
	yes, one, free := true, 1, 0
	if err := b.f.SetSheetProps(sheet, &excelize.SheetPropsOptions{FitToPage: &yes}); err != nil {
		return err
	}
	return b.f.SetPageLayout(sheet, &excelize.PageLayoutOptions{FitToWidth: &one, FitToHeight: &free})
}

// write finishes the workbook into w.
func (b *book) write(w io.Writer) error {
	// The first sheet is the active one, as excelize leaves it: setting it
	// again would make excelize read every streamed sheet back in.
	// excelize assembles the zip in a bytes.Buffer before handing it on:
	// for a million-line sheet that is a second copy of the whole file,
	// grown by doubling (the most memory an export would take). The zip
	// writer excelize is given writes to w instead and ignores the buffer,
	// which stays empty, so the file streams out.
	zw := zip.NewWriter(w)
	// The fastest deflate level, on every core: still plain deflate that
	// every program reads, and a million-row sheet compresses about five
	// times faster than at the default level on one core, for a file a
	// quarter larger.
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return newParallelDeflate(out), nil
	})
	b.f.SetZipWriter(func(io.Writer) excelize.ZipWriter { return zw })
	if _, err := b.f.WriteTo(io.Discard); err != nil {
		return fmt.Errorf("write workbook: %w", err)
	}
	return b.f.Close()
}

// Result says what an export wrote.
type Result struct {
	Sheets []string
	// Rows is the number of data rows in the listing sheets (findings, bill
	// lines, orders...): header, totals and the summary are not counted.
	Rows int
}

func (b *book) result() Result { return Result{Sheets: b.sheets, Rows: b.rows} }

// displayWidth is how many columns s takes in a spreadsheet cell: East
// Asian wide and fullwidth characters (Chinese, fullwidth punctuation)
// take two, everything else one.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		if r < 0x1100 { // below Hangul Jamo nothing is wide: the fast path for ASCII and Latin
			n++
			continue
		}
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}
