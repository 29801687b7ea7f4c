package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/paydesk/paydesk/store"
)

// auditView is the operator log, newest first, filterable by operator,
// action, target, day and text.
type auditView struct {
	c             *programContext
	width, height int
	filter        filterBox
	q             auditQuery
	list          idPager[store.AuditEntry]
	detail        *textPage
}

func newAuditView(c *programContext) *auditView {
	v := &auditView{c: c, filter: newFilterBox("op:alice action:refund since:2026-11-22 words")}
	v.list.idOf = func(e store.AuditEntry) int64 { return e.ID }
	return v
}

func (v *auditView) fetch() fetchFunc[store.AuditEntry] {
	c, f := v.c, v.q.f
	return func(before int64, limit int) ([]store.AuditEntry, error) {
		return c.svc.ListAudit(c.ctx, f, before, limit)
	}
}

func (v *auditView) Init() tea.Cmd { return v.list.reset(auditTab, v.fetch()) }

func (v *auditView) SetSize(w, h int) {
	v.width, v.height = w, h
	v.filter.input.Width = max(10, w-12)
}

func (v *auditView) Focused() bool { return v.filter.active }

func (v *auditView) rowsHeight() int { return max(1, v.height-2) }

// refresh re-reads the newest page when the view is shown: every action
// elsewhere adds entries.
func (v *auditView) refresh() tea.Cmd {
	if len(v.list.back) == 0 {
		return v.list.refresh(auditTab, v.fetch())
	}
	return nil
}

func (v *auditView) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case listPageMsg[store.AuditEntry]:
		v.list.apply(msg, v.rowsHeight())
		if msg.err != nil && msg.gen == v.list.gen {
			return v, errToast("audit log", msg.err)
		}
	case tea.KeyMsg:
		if v.filter.active {
			return v, v.filter.update(msg, v.applyFilter)
		}
		k := v.c.keys
		if v.detail != nil {
			if key.Matches(msg, k.Back) {
				v.detail = nil
			} else {
				v.detail.update(k, msg, v.height)
			}
			return v, nil
		}
		h := v.rowsHeight()
		switch {
		case key.Matches(msg, k.Filter):
			v.filter.open(v.q.text)
		case key.Matches(msg, k.Down):
			return v, v.list.move(auditTab, v.fetch(), 1, h)
		case key.Matches(msg, k.Up):
			return v, v.list.move(auditTab, v.fetch(), -1, h)
		case key.Matches(msg, k.PageDown):
			return v, v.list.move(auditTab, v.fetch(), h, h)
		case key.Matches(msg, k.PageUp):
			return v, v.list.move(auditTab, v.fetch(), -h, h)
		case key.Matches(msg, k.Top):
			if len(v.list.back) > 0 {
				return v, v.list.reset(auditTab, v.fetch())
			}
			return v, v.list.move(auditTab, v.fetch(), -len(v.list.rows), h)
		case key.Matches(msg, k.Bottom):
			return v, v.list.move(auditTab, v.fetch(), len(v.list.rows)-1-v.list.sel, h)
		case key.Matches(msg, k.Back):
			if v.q.text != "" {
				v.q = auditQuery{}
				return v, v.list.reset(auditTab, v.fetch())
			}
		case key.Matches(msg, k.Enter):
			if e, ok := v.list.selected(); ok {
				v.detail = &textPage{lines: v.entryLines(e)}
			}
		}
	case tea.MouseMsg:
		switch msg.Button {
		case tea.MouseButtonWheelDown:
			return v, v.list.move(auditTab, v.fetch(), 3, v.rowsHeight())
		case tea.MouseButtonWheelUp:
			return v, v.list.move(auditTab, v.fetch(), -3, v.rowsHeight())
		}
	}
	return v, nil
}

func (v *auditView) applyFilter(s string) (tea.Cmd, error) {
	q, err := parseAuditFilter(s, v.c.zone)
	if err != nil {
		return nil, err
	}
	v.q = q
	return v.list.reset(auditTab, v.fetch()), nil
}

func (v *auditView) entryLines(e store.AuditEntry) []string {
	t := v.c.theme
	l := []string{t.Title.Render(fmt.Sprintf("Audit entry %d", e.ID))}
	field := func(name, value string) { l = append(l, fmt.Sprintf("  %-9s %s", name, value)) }
	field("At", v.c.local(e.At, "2006-01-02 15:04:05"))
	field("Operator", e.Operator+" ("+e.Role+")")
	field("Action", e.Action)
	field("Target", dash(e.Target))
	outcome := string(e.Outcome)
	if e.Outcome != store.AuditOK {
		outcome = "! " + outcome
	}
	field("Outcome", outcome)
	for i, s := range wrap(dash(e.Detail), max(20, v.width-14)) {
		if i == 0 {
			field("Detail", s)
		} else {
			field("", s)
		}
	}
	if e.Error != "" {
		for i, s := range wrap(e.Error, max(20, v.width-14)) {
			if i == 0 {
				field("Error", s)
			} else {
				field("", s)
			}
		}
	}
	return l
}

var auditColumns = []column{
	{title: "", width: 2},
	{title: "AT", width: 14},
	{title: "OPERATOR", width: 10},
	{title: "ACTION", width: 13},
	{title: "TARGET", width: 18, prio: 2},
	{title: "OUTCOME", width: 7},
	{title: "DETAIL", width: 10, flex: true, prio: 1},
}

func (v *auditView) View() string {
	if v.detail != nil {
		return v.detail.view(v.width, v.height)
	}
	t := v.c.theme
	var b strings.Builder
	if v.filter.active {
		b.WriteString(v.filter.view(v.c, v.width))
	} else {
		parts := []string{"operator log"}
		if v.q.text != "" {
			parts[0] = "filter: " + v.q.text
		}
		parts = append(parts, "page "+itoa(v.list.pageNo()))
		b.WriteString(truncateLines(t.Dim.Render(strings.Join(parts, " · ")), v.width))
	}
	b.WriteByte('\n')
	cols := fitColumns(auditColumns, v.width)
	b.WriteString(v.filter.headerOrError(v.c, cols, v.width))
	b.WriteByte('\n')
	rows := v.list.rows
	if len(rows) == 0 {
		switch {
		case v.list.loading:
			b.WriteString(t.Dim.Render("  loading…"))
		case v.list.err != "":
			b.WriteString(t.Bad.Render("  error: " + v.list.err))
		case v.q.text != "":
			b.WriteString("  No entries match " + v.q.text + ". Press / to change the filter, esc to clear it.")
		default:
			b.WriteString("  Nothing audited yet: every query, refund, replay, import and export lands here.")
		}
		return padLines(b.String(), v.height)
	}
	end := min(v.list.top+v.rowsHeight(), len(rows))
	cells := make([]string, len(auditColumns))
	var line strings.Builder
	for i := v.list.top; i < end; i++ {
		e := rows[i]
		mark := []byte("  ")
		if i == v.list.sel {
			mark[0] = '>'
		}
		bad := e.Outcome != store.AuditOK
		if bad {
			mark[1] = '!'
		}
		detail := e.Detail
		if e.Error != "" {
			detail = strings.TrimSpace(detail + " " + e.Error)
		}
		cells[0], cells[1], cells[2], cells[3] = string(mark), v.c.local(e.At, "01-02 15:04:05"), e.Operator, e.Action
		cells[4], cells[5], cells[6] = dash(e.Target), string(e.Outcome), dash(detail)
		line.Reset()
		formatRow(&line, cols, selectCells(auditColumns, cols, cells))
		s := line.String()
		switch {
		case i == v.list.sel:
			s = t.Selected.Render(s)
		case bad:
			s = t.Bad.Render(s)
		}
		b.WriteString(s)
		if i < end-1 {
			b.WriteByte('\n')
		}
	}
	return padLines(b.String(), v.height)
}

func (v *auditView) ShortHelp() []key.Binding {
	k := v.c.keys
	return []key.Binding{k.Filter, k.Enter, k.Help}
}

func (v *auditView) FullHelp() [][]key.Binding {
	k := v.c.keys
	return [][]key.Binding{k.navHelp(), {k.Filter, k.Enter, k.Back}, k.globalHelp()}
}
