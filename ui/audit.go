package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/store"
)

// auditView is the operator log, newest first, filterable by operator,
// action, target, day and text.
type auditView struct {
	pagedList[store.AuditEntry, store.AuditFilter]
	detail *textPage
}

func newAuditView(c *programContext) *auditView {
	v := &auditView{}
	v.init(c, auditTab, "op:alice action:refund since:2026-11-22 words",
		func(e store.AuditEntry) int64 { return e.ID }, (*ops.Service).ListAudit, parseAuditFilter)
	return v
}

// watches: every operator action adds an entry.
func (v *auditView) watches(old, now ops.Changes) bool { return old.Audit != now.Audit }

// reloadShown reads the page again; an open entry stays as it is (entries
// never change).
func (v *auditView) reloadShown() tea.Cmd { return v.refreshPage() }

func (v *auditView) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case listPageMsg[store.AuditEntry]:
		return v, v.pageLoaded(msg, "audit log")
	case tea.KeyMsg:
		if v.filter.active {
			return v, v.filterKey(msg)
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
		if cmd, ok := v.navigate(msg); ok {
			return v, cmd
		}
		if key.Matches(msg, k.Enter) {
			if e, ok := v.list.selected(); ok {
				v.detail = &textPage{lines: v.entryLines(e)}
			}
		}
	case tea.MouseMsg:
		return v, v.wheel(msg)
	}
	return v, nil
}

func (v *auditView) entryLines(e store.AuditEntry) []string {
	t := v.c.theme
	l := []string{t.Title.Render(fmt.Sprintf("Audit entry %d", e.ID))}
	field := func(name, value string) { l = append(l, fmt.Sprintf("  %-9s %s", name, value)) }
	field("At", v.c.local(e.At, "2006-01-02 15:04:05"))
	field("Operator", e.Operator+" ("+e.Role+")")
	if e.Via != "" {
		field("Via", e.Via)
	}
	field("Action", e.Action)
	field("Target", dash(e.Target))
	outcome := string(e.Outcome)
	if e.Outcome != store.AuditOK {
		outcome = "! " + outcome
	}
	field("Outcome", outcome)
	for i, s := range wrap(dash(gateway.MaskBuyerIDs(e.Detail)), max(20, v.width-14)) {
		if i == 0 {
			field("Detail", s)
		} else {
			field("", s)
		}
	}
	if e.Error != "" {
		for i, s := range wrap(gateway.MaskBuyerIDs(e.Error), max(20, v.width-14)) {
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
	return v.view(listLook[store.AuditEntry]{
		cols: auditColumns, title: "operator log", quiet: true, noun: "entries",
		empty: "  Nothing audited yet: every query, refund, replay, import and export lands here.",
		row: func(e store.AuditEntry, cells []string) rowTone {
			detail := e.Detail
			if e.Error != "" {
				detail = strings.TrimSpace(detail + " " + e.Error)
			}
			cells[1], cells[2], cells[3] = v.c.local(e.At, "01-02 15:04:05"), auditOperator(e), e.Action
			cells[4], cells[5], cells[6] = dash(e.Target), string(e.Outcome), dash(gateway.MaskBuyerIDs(detail))
			if e.Outcome != store.AuditOK {
				return toneBad
			}
			return tonePlain
		},
	})
}

func (v *auditView) ShortHelp() []key.Binding {
	k := v.c.keys
	return []key.Binding{k.Filter, k.Enter, k.Help}
}

func (v *auditView) FullHelp() [][]key.Binding {
	k := v.c.keys
	return [][]key.Binding{k.navHelp(), {k.Filter, k.Enter, k.Back}, k.globalHelp()}
}

// auditOperator names who acted, and how when not on the host itself:
// "li.na@ssh" (the column is narrow; the entry's page has the address).
func auditOperator(e store.AuditEntry) string {
	if how, _, _ := strings.Cut(e.Via, " "); how != "" {
		return e.Operator + "@" + how
	}
	return e.Operator
}
