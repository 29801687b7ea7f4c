package ui

import (
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/paydesk/paydesk/ops"
)

// column is one column of a list. Lists render their own rows instead of
// using bubbles/table: only the visible rows are formatted, each with one
// pass over plain strings and one style per row, which keeps a frame well
// under a millisecond at any table size.
type column struct {
	title string
	width int
	// flex columns share the width left over; prio decides which columns
	// go first on a narrow terminal (lowest first); 0 never goes.
	flex  bool
	right bool
	prio  int
	// number columns hold order, trade or request numbers: from
	// wideLayout columns on they are never cut (see fitNumbers). whole
	// columns are never cut from there either, but are no numbers (an
	// event name such as REFUND_ABNORMAL).
	number, whole bool
	// wideFlex columns take the width left over from wideLayout on, where
	// number columns stop being flexible (a note, a detail).
	wideFlex bool
	// min is the width a flex column never shrinks below.
	min int
}

// wideLayout is the terminal width from which number columns show whole
// numbers; narrower terminals keep the compact layout, cutting them with
// "…".
const wideLayout = 120

// fitNumbers lays columns out like fitColumns, but from wideLayout on
// every number column is as wide as the longest number it will show
// (widest, by title), whatever the other columns must give up; the flex
// column (the detail) takes what is left.
func fitNumbers(cols []column, width int, widest map[string]int) []column {
	if width < wideLayout {
		return fitColumns(cols, width)
	}
	out := append([]column(nil), cols...)
	for i, c := range out {
		if c.number || c.whole {
			out[i].width = max(c.width, widest[c.title])
			out[i].min, out[i].flex = out[i].width, false
		}
		if c.wideFlex {
			out[i].flex = true
		}
	}
	return fitColumns(out, width)
}

// widen records in widest the width of a number shown under title.
func widen(widest map[string]int, title, number string) {
	if n := ansi.StringWidth(number); n > widest[title] {
		widest[title] = n
	}
}

// fitColumns drops low-priority columns until the rest fit in width
// (counting one space between columns), then gives flex columns the rest.
func fitColumns(cols []column, width int) []column {
	out := append([]column(nil), cols...)
	total := func() int {
		n := 0
		for i, c := range out {
			if i > 0 {
				n++
			}
			n += c.width
		}
		return n
	}
	for total() > width {
		drop, best := -1, 0
		for i, c := range out {
			if c.prio > best {
				drop, best = i, c.prio
			}
		}
		if drop < 0 {
			break
		}
		out = append(out[:drop], out[drop+1:]...)
	}
	// Still too wide with only essential columns: flex columns give way,
	// down to a few cells.
	for i := range out {
		if over := total() - width; over > 0 && out[i].flex {
			out[i].width = max(out[i].width-over, 6, out[i].min)
		}
	}
	if spare := width - total(); spare > 0 {
		flex := 0
		for _, c := range out {
			if c.flex {
				flex++
			}
		}
		for i := range out {
			if out[i].flex && flex > 0 {
				add := spare / flex
				out[i].width += add
				spare -= add
				flex--
			}
		}
	}
	return out
}

// row formats cells (one per column of the layout) into one line.
func formatRow(b *strings.Builder, cols []column, cells []string) {
	for i, c := range cols {
		if i > 0 {
			b.WriteByte(' ')
		}
		cell := ""
		if i < len(cells) {
			cell = cells[i]
		}
		b.WriteString(fit(cell, c.width, c.right))
	}
}

// fit pads or truncates plain text to exactly w cells.
func fit(s string, w int, right bool) string {
	if w <= 0 {
		return ""
	}
	n := ansi.StringWidth(s)
	if n > w {
		s = ansi.Truncate(s, w, "…")
		n = ansi.StringWidth(s)
	}
	pad := strings.Repeat(" ", w-n)
	if right {
		return pad + s
	}
	return s + pad
}

// header formats the column titles.
func header(cols []column) string {
	var b strings.Builder
	titles := make([]string, len(cols))
	for i, c := range cols {
		titles[i] = c.title
	}
	formatRow(&b, cols, titles)
	return b.String()
}

// selectOf picks which cells to keep after fitColumns dropped some.
func selectCells(all []column, kept []column, cells []string) []string {
	if len(all) == len(kept) {
		return cells
	}
	out := make([]string, 0, len(kept))
	j := 0
	for i, c := range all {
		if j < len(kept) && kept[j].title == c.title {
			out = append(out, cells[i])
			j++
		}
	}
	return out
}

// scrollTop keeps sel inside a window of h rows starting at top.
func scrollTop(sel, top, h, n int) int {
	if h <= 0 {
		return 0
	}
	if sel < top {
		top = sel
	}
	if sel >= top+h {
		top = sel - h + 1
	}
	if top > n-h {
		top = n - h
	}
	if top < 0 {
		top = 0
	}
	return top
}

func itoa(n int) string { return strconv.Itoa(n) }

// group prints an integer with thousands separators.
func group(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(s[i])
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// padLines makes s exactly h lines (cutting or adding empty ones), so the
// status bar stays at the bottom whatever a view renders.
func padLines(s string, h int) string {
	if h <= 0 {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

// truncateLines cuts every line to w cells.
func truncateLines(s string, w int) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if ansi.StringWidth(l) > w {
			lines[i] = ansi.Truncate(l, w, "…")
		}
	}
	return strings.Join(lines, "\n")
}

// countOf is a count that may have stopped early: "100,000+ orders".
func countOf(n ops.Count, one, many string) string {
	if n.More {
		return group(n.N) + "+ " + many
	}
	return plural(n.N, one, many)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return group(n) + " " + many
}
