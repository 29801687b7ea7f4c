package ui

import (
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
)

// listPage is how many rows one page of a newest-first list holds.
const listPage = 100

// idPager pages a newest-first list by id (notifications, refunds, the
// audit log all page "before id N"): one page in memory, and the ids where
// the pages above it started, so going back is a read, not a cache.
type idPager[T any] struct {
	rows    []T
	sel     int
	top     int
	before  int64   // the page was read before this id (0: the newest)
	back    []int64 // where the pages above started
	more    bool
	loading bool
	gen     int
	err     string
	idOf    func(T) int64
}

// listPageMsg is one page for the view `to`.
type listPageMsg[T any] struct {
	to     viewID
	gen    int
	before int64
	// sel is where the selection goes: a row index, or -1 for the last
	// row (paging up).
	sel int
	// keep, when set, is the row (by id) the selection stays on if the page
	// still has it, at the same place on the screen (screenRow rows below
	// the top): a page read again must not move what the operator looks at.
	keep      int64
	screenRow int
	rows      []T
	err       error
}

func (m listPageMsg[T]) target() viewID { return m.to }

type fetchFunc[T any] func(before int64, limit int) ([]T, error)

func (p *idPager[T]) load(to viewID, fetch fetchFunc[T], before int64, sel int) tea.Cmd {
	p.loading = true
	gen := p.gen
	return func() tea.Msg {
		rows, err := fetch(before, listPage)
		return listPageMsg[T]{to: to, gen: gen, before: before, sel: sel, rows: rows, err: err}
	}
}

// reset starts from the newest row (a new filter, or after an action).
func (p *idPager[T]) reset(to viewID, fetch fetchFunc[T]) tea.Cmd {
	p.gen++
	p.back = p.back[:0]
	return p.load(to, fetch, 0, 0)
}

// refresh re-reads the current page, keeping the selection on its row.
// On the newest page with the newest row selected the selection stays on
// top, so a list of incoming callbacks is a live tail.
func (p *idPager[T]) refresh(to viewID, fetch fetchFunc[T]) tea.Cmd {
	p.gen++
	var keep int64
	screenRow := p.sel - p.top
	if r, ok := p.selected(); ok && (p.before != 0 || p.sel > 0) {
		keep = p.idOf(r)
	}
	cmd := p.load(to, fetch, p.before, p.sel)
	return func() tea.Msg {
		m := cmd().(listPageMsg[T])
		m.keep, m.screenRow = keep, screenRow
		return m
	}
}

func (p *idPager[T]) apply(m listPageMsg[T], h int) {
	if m.gen != p.gen {
		return
	}
	p.loading = false
	if m.err != nil {
		p.err = m.err.Error()
		return
	}
	p.err = ""
	p.rows, p.before = m.rows, m.before
	p.more = len(m.rows) == listPage
	p.sel = m.sel
	top := 0
	if m.keep != 0 {
		for i, r := range p.rows {
			if p.idOf(r) == m.keep {
				p.sel, top = i, max(i-m.screenRow, 0)
				break
			}
		}
	}
	if p.sel < 0 || p.sel >= len(p.rows) {
		p.sel = max(len(p.rows)-1, 0)
	}
	p.top = scrollTop(p.sel, top, h, len(p.rows))
}

// move moves the selection, reading the next or previous page at an edge.
func (p *idPager[T]) move(to viewID, fetch fetchFunc[T], d, h int) tea.Cmd {
	if p.loading || len(p.rows) == 0 {
		return nil
	}
	n := p.sel + d
	switch {
	case n >= len(p.rows) && p.more && p.sel == len(p.rows)-1:
		p.back = append(p.back, p.before)
		p.gen++
		return p.load(to, fetch, p.idOf(p.rows[len(p.rows)-1]), 0)
	case n < 0 && p.sel == 0 && len(p.back) > 0:
		before := p.back[len(p.back)-1]
		p.back = p.back[:len(p.back)-1]
		p.gen++
		return p.load(to, fetch, before, -1)
	}
	p.sel = min(max(n, 0), max(len(p.rows)-1, 0))
	p.top = scrollTop(p.sel, p.top, h, len(p.rows))
	return nil
}

func (p *idPager[T]) selected() (T, bool) {
	var zero T
	if p.sel < 0 || p.sel >= len(p.rows) {
		return zero, false
	}
	return p.rows[p.sel], true
}

// pageNo is the 1-based page number.
func (p *idPager[T]) pageNo() int { return len(p.back) + 1 }

// filterBox is the `/` line of a list: a focused input that takes every
// key until enter applies it or esc drops it.
type filterBox struct {
	input  textinput.Model
	active bool
	err    string
}

func newFilterBox(t *theme, placeholder string) filterBox {
	return filterBox{input: newInput(t, placeholder, 60)}
}

func (f *filterBox) open(current string) {
	f.active, f.err = true, ""
	f.input.SetValue(current)
	f.input.CursorEnd()
	f.input.Focus()
}

// update feeds a key to the box; apply parses the text and returns an
// error to show, or nil when the filter took effect.
func (f *filterBox) update(msg tea.KeyMsg, apply func(string) (tea.Cmd, error)) tea.Cmd {
	switch msg.Type {
	case tea.KeyEsc:
		f.active, f.err = false, ""
		f.input.Blur()
		return nil
	case tea.KeyEnter:
		cmd, err := apply(f.input.Value())
		if err != nil {
			f.err = err.Error()
			return nil
		}
		f.active, f.err = false, ""
		f.input.Blur()
		return cmd
	}
	var cmd tea.Cmd
	f.input, cmd = f.input.Update(msg)
	return cmd
}

func (f *filterBox) view(c *programContext, width int) string {
	return truncateLines("/ "+f.input.View(), width)
}

// headerOrError is the column header, or the filter's error while the
// filter line is open with one.
func (f *filterBox) headerOrError(c *programContext, cols []column, width int) string {
	if f.active && f.err != "" {
		return truncateLines(c.theme.Bad.Render("error: "+f.err), width)
	}
	return c.theme.ColHeader.Render(header(cols))
}
