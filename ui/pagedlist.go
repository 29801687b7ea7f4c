package ui

import (
	"context"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/paydesk/paydesk/ops"
)

// pagedList is what the lists paged by id (notifications, refunds, the
// audit log) do alike, embedded in each the way gh-dash embeds its base
// section: the filter line, the page in memory, the paging and selection
// keys, the wheel and the frame of the screen. A view keeps what is its
// own: its columns and row cells, its action keys and its detail page.
// T is the row, F the store filter the filter line parses into.
type pagedList[T, F any] struct {
	c             *programContext
	tab           viewID
	width, height int
	filter        filterBox
	q             filterQuery[F]
	list          idPager[T]
	// read is the service's list call for a page "before id N", e.g.
	// (*ops.Service).ListRefunds; the service is looked up when the page
	// is read.
	read  func(s *ops.Service, ctx context.Context, f F, before int64, limit int) ([]T, error)
	parse func(s string, zone *time.Location) (filterQuery[F], error)
	// restart reads the list again from its newest row, after the filter
	// changed. A view that also counts what the filter matches replaces it
	// so the count starts again with the list.
	restart func() tea.Cmd
}

// init sets p up in place: restart holds p, so p must not be copied
// afterwards.
func (p *pagedList[T, F]) init(c *programContext, tab viewID, placeholder string, idOf func(T) int64,
	read func(*ops.Service, context.Context, F, int64, int) ([]T, error),
	parse func(string, *time.Location) (filterQuery[F], error)) {
	p.c, p.tab, p.read, p.parse = c, tab, read, parse
	p.filter = newFilterBox(c.theme, placeholder)
	p.list.idOf = idOf
	p.restart = func() tea.Cmd { return p.list.reset(p.tab, p.fetch()) }
}

// fetch reads pages with the filter as it is now: a page that arrives after
// the filter changed carries an old generation and is dropped.
func (p *pagedList[T, F]) fetch() fetchFunc[T] {
	c, f, read := p.c, p.q.f, p.read
	return func(before int64, limit int) ([]T, error) {
		return read(c.svc, c.ctx, f, before, limit)
	}
}

func (p *pagedList[T, F]) Init() tea.Cmd { return p.restart() }

func (p *pagedList[T, F]) SetSize(w, h int) {
	p.width, p.height = w, h
	p.filter.input.Width = max(10, w-12)
}

func (p *pagedList[T, F]) Focused() bool { return p.filter.active }

// rowsHeight leaves the status line and the column header.
func (p *pagedList[T, F]) rowsHeight() int { return max(1, p.height-2) }

// refreshPage reads the page on screen again, keeping the selection: an
// action changed one of its rows.
func (p *pagedList[T, F]) refreshPage() tea.Cmd { return p.list.refresh(p.tab, p.fetch()) }

func (p *pagedList[T, F]) move(d int) tea.Cmd {
	return p.list.move(p.tab, p.fetch(), d, p.rowsHeight())
}

// pageLoaded takes a page; a failed read of the current generation is
// also a toast saying what failed.
func (p *pagedList[T, F]) pageLoaded(msg listPageMsg[T], what string) tea.Cmd {
	p.list.apply(msg, p.rowsHeight())
	if msg.err != nil && msg.gen == p.list.gen {
		return errToast(what, msg.err)
	}
	return nil
}

// filterKey feeds a key to the open filter line.
func (p *pagedList[T, F]) filterKey(msg tea.KeyMsg) tea.Cmd {
	return p.filter.update(msg, p.applyFilter)
}

func (p *pagedList[T, F]) applyFilter(s string) (tea.Cmd, error) {
	q, err := p.parse(s, p.c.zone)
	if err != nil {
		return nil, err
	}
	p.q = q
	return p.restart(), nil
}

// navigate handles the keys every list shares: the filter line, paging,
// and esc clearing the filter. handled is false for a key the view
// handles itself; esc without a filter is handled and does nothing, so a
// view's own keys never see it.
func (p *pagedList[T, F]) navigate(msg tea.KeyMsg) (cmd tea.Cmd, handled bool) {
	k := p.c.keys
	h := p.rowsHeight()
	switch {
	case key.Matches(msg, k.Filter):
		p.filter.open(p.q.text)
	case key.Matches(msg, k.Down):
		return p.move(1), true
	case key.Matches(msg, k.Up):
		return p.move(-1), true
	case key.Matches(msg, k.PageDown):
		return p.move(h), true
	case key.Matches(msg, k.PageUp):
		return p.move(-h), true
	case key.Matches(msg, k.Top):
		// Pages above were read before; the newest is read again rather
		// than walked back to.
		if len(p.list.back) > 0 {
			return p.list.reset(p.tab, p.fetch()), true
		}
		return p.move(-len(p.list.rows)), true
	case key.Matches(msg, k.Bottom):
		return p.move(len(p.list.rows) - 1 - p.list.sel), true
	case key.Matches(msg, k.Back):
		if p.q.text != "" {
			p.q = filterQuery[F]{}
			return p.restart(), true
		}
	default:
		return nil, false
	}
	return nil, true
}

// wheel scrolls three rows a notch.
func (p *pagedList[T, F]) wheel(msg tea.MouseMsg) tea.Cmd {
	switch msg.Button {
	case tea.MouseButtonWheelDown:
		return p.move(3)
	case tea.MouseButtonWheelUp:
		return p.move(-3)
	}
	return nil
}

// rowTone is how a row looks when it is not the selected one.
type rowTone int

const (
	tonePlain rowTone = iota
	// toneBad rows are marked with '!' as well as styled, so they still
	// stand out under NO_COLOR.
	toneBad
	toneWarn
)

// listLook is what a view tells pagedList.view about its screen.
type listLook[T any] struct {
	cols []column
	// title is the status line's first part while no filter is set;
	// counts follow it, before the page number.
	title  string
	counts []string
	// quiet leaves "loading…" off the status line (the audit log never
	// showed it).
	quiet bool
	// noun names the rows in "No <noun> match …"; empty is the line when
	// there are no rows and no filter.
	noun, empty string
	// row fills a row's cells after the mark column (cells[0]).
	row func(r T, cells []string) rowTone
	// numbers records the widths of a row's number cells (widen), so a
	// wide terminal shows them whole; nil for a list without any.
	numbers func(r T, widest map[string]int)
}

// view draws the status or filter line, the column header (or the
// filter's error) and the visible rows, or a line saying why there are
// none, padded to the view's height.
func (p *pagedList[T, F]) view(l listLook[T]) string {
	t := p.c.theme
	var b strings.Builder
	if p.filter.active {
		b.WriteString(p.filter.view(p.c, p.width))
	} else {
		parts := []string{l.title}
		if p.q.text != "" {
			parts[0] = "filter: " + p.q.text
		}
		parts = append(parts, l.counts...)
		parts = append(parts, "page "+itoa(p.list.pageNo()))
		if p.list.loading && !l.quiet {
			parts = append(parts, "loading…")
		}
		b.WriteString(truncateLines(t.Dim.Render(strings.Join(parts, " · ")), p.width))
	}
	b.WriteByte('\n')
	widest := map[string]int{}
	if p.width >= wideLayout && l.numbers != nil {
		for _, r := range p.list.rows {
			l.numbers(r, widest)
		}
	}
	cols := fitNumbers(l.cols, p.width, widest)
	b.WriteString(p.filter.headerOrError(p.c, cols, p.width))
	b.WriteByte('\n')
	rows := p.list.rows
	if len(rows) == 0 {
		switch {
		case p.list.loading:
			b.WriteString(t.Dim.Render("  loading…"))
		case p.list.err != "":
			b.WriteString(t.Bad.Render("  error: " + p.list.err))
		case p.q.text != "":
			b.WriteString("  No " + l.noun + " match " + p.q.text + ". Press / to change the filter, esc to clear it.")
		default:
			b.WriteString(l.empty)
		}
		return padLines(b.String(), p.height)
	}
	end := min(p.list.top+p.rowsHeight(), len(rows))
	cells := make([]string, len(l.cols))
	var line strings.Builder
	for i := p.list.top; i < end; i++ {
		tone := l.row(rows[i], cells)
		mark := []byte("  ")
		if i == p.list.sel {
			mark[0] = '>'
		}
		if tone == toneBad {
			mark[1] = '!'
		}
		cells[0] = string(mark)
		line.Reset()
		formatRow(&line, cols, selectCells(l.cols, cols, cells))
		s := line.String()
		switch {
		case i == p.list.sel:
			s = t.Selected.Render(s)
		case tone == toneBad:
			s = t.Bad.Render(s)
		case tone == toneWarn:
			s = t.Warn.Render(s)
		}
		b.WriteString(s)
		if i < end-1 {
			b.WriteByte('\n')
		}
	}
	return padLines(b.String(), p.height)
}
