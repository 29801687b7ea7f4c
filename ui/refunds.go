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

// refundsView lists every refund request newest first. A PENDING one can
// be settled: ops.RetryRefund asks the platform about its request number
// and re-sends that same number only if the platform never got it.
type refundsView struct {
	c             *programContext
	width, height int
	filter        filterBox
	q             refundQuery
	list          idPager[store.Refund]
}

type retryDoneMsg struct {
	no  string
	out ops.RefundOutcome
	err error
}

func (retryDoneMsg) target() viewID { return refundsTab }

func newRefundsView(c *programContext) *refundsView {
	v := &refundsView{c: c, filter: newFilterBox("pending channel:wechat order:PD2026… 2026-11-22")}
	v.list.idOf = func(r store.Refund) int64 { return r.ID }
	return v
}

func (v *refundsView) fetch() fetchFunc[store.Refund] {
	c, f := v.c, v.q.f
	return func(before int64, limit int) ([]store.Refund, error) {
		return c.svc.ListRefunds(c.ctx, f, before, limit)
	}
}

func (v *refundsView) Init() tea.Cmd { return v.list.reset(refundsTab, v.fetch()) }

func (v *refundsView) SetSize(w, h int) {
	v.width, v.height = w, h
	v.filter.input.Width = max(10, w-12)
}

func (v *refundsView) Focused() bool { return v.filter.active }

func (v *refundsView) rowsHeight() int { return max(1, v.height-2) }

func (v *refundsView) retryKey() key.Binding { return only(v.c.keys.Retry, v.c.can(ops.ActRefund)) }

func (v *refundsView) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case listPageMsg[store.Refund]:
		v.list.apply(msg, v.rowsHeight())
		if msg.err != nil && msg.gen == v.list.gen {
			return v, errToast("list refunds", msg.err)
		}
	case retryDoneMsg:
		cmd := v.list.refresh(refundsTab, v.fetch())
		if msg.err != nil {
			return v, tea.Batch(cmd, errToast("refund "+msg.no, msg.err))
		}
		f := msg.out.Refund
		kind := toastOK
		if f.Status != gateway.RefundSuccess {
			kind = toastInfo
		}
		return v, tea.Batch(cmd, toastCmd(kind, fmt.Sprintf("refund %s: %s — %s", msg.no, f.Status, msg.out.Note)))
	case refundDoneMsg:
		return v, v.list.refresh(refundsTab, v.fetch())
	case tea.KeyMsg:
		if v.filter.active {
			return v, v.filter.update(msg, v.applyFilter)
		}
		return v, v.updateList(msg)
	case tea.MouseMsg:
		switch msg.Button {
		case tea.MouseButtonWheelDown:
			return v, v.list.move(refundsTab, v.fetch(), 3, v.rowsHeight())
		case tea.MouseButtonWheelUp:
			return v, v.list.move(refundsTab, v.fetch(), -3, v.rowsHeight())
		}
	}
	return v, nil
}

func (v *refundsView) applyFilter(s string) (tea.Cmd, error) {
	q, err := parseRefundFilter(s, v.c.zone)
	if err != nil {
		return nil, err
	}
	v.q = q
	return v.list.reset(refundsTab, v.fetch()), nil
}

func (v *refundsView) updateList(msg tea.KeyMsg) tea.Cmd {
	k := v.c.keys
	h := v.rowsHeight()
	switch {
	case key.Matches(msg, k.Filter):
		v.filter.open(v.q.text)
	case key.Matches(msg, k.Down):
		return v.list.move(refundsTab, v.fetch(), 1, h)
	case key.Matches(msg, k.Up):
		return v.list.move(refundsTab, v.fetch(), -1, h)
	case key.Matches(msg, k.PageDown):
		return v.list.move(refundsTab, v.fetch(), h, h)
	case key.Matches(msg, k.PageUp):
		return v.list.move(refundsTab, v.fetch(), -h, h)
	case key.Matches(msg, k.Top):
		if len(v.list.back) > 0 {
			return v.list.reset(refundsTab, v.fetch())
		}
		return v.list.move(refundsTab, v.fetch(), -len(v.list.rows), h)
	case key.Matches(msg, k.Bottom):
		return v.list.move(refundsTab, v.fetch(), len(v.list.rows)-1-v.list.sel, h)
	case key.Matches(msg, k.Back):
		if v.q.text != "" {
			v.q = refundQuery{}
			return v.list.reset(refundsTab, v.fetch())
		}
	case key.Matches(msg, k.Enter):
		if r, ok := v.list.selected(); ok {
			return func() tea.Msg { return jumpMsg{to: ordersTab, order: r.OutTradeNo} }
		}
	case key.Matches(msg, v.retryKey()):
		r, ok := v.list.selected()
		if !ok {
			return nil
		}
		if r.Status != gateway.RefundPending {
			return toastCmd(toastInfo, fmt.Sprintf("refund %s is %s: only PENDING refunds are re-queried or re-sent", r.OutRequestNo, r.Status))
		}
		c, no := v.c, r.OutRequestNo
		return c.startTask("settling refund "+no, func(int, func(tea.Msg)) tea.Msg {
			out, err := c.svc.RetryRefund(c.ctx, no)
			return retryDoneMsg{no: no, out: out, err: err}
		})
	}
	return nil
}

var refundColumns = []column{
	{title: "", width: 2},
	{title: "CREATED", width: 11},
	{title: "REQUEST_NO", width: 16, flex: true},
	{title: "ORDER", width: 18, prio: 1},
	{title: "CH", width: 6, prio: 3},
	{title: "AMOUNT", width: 11, right: true},
	{title: "STATUS", width: 7},
	{title: "BY", width: 8, prio: 2},
	{title: "NOTE", width: 12, prio: 4},
}

func (v *refundsView) View() string {
	t := v.c.theme
	var b strings.Builder
	if v.filter.active {
		b.WriteString(v.filter.view(v.c, v.width))
	} else {
		parts := []string{"all refunds"}
		if v.q.text != "" {
			parts[0] = "filter: " + v.q.text
		}
		parts = append(parts, "page "+itoa(v.list.pageNo()))
		if v.list.loading {
			parts = append(parts, "loading…")
		}
		b.WriteString(truncateLines(t.Dim.Render(strings.Join(parts, " · ")), v.width))
	}
	b.WriteByte('\n')
	cols := fitColumns(refundColumns, v.width)
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
			b.WriteString("  No refunds match " + v.q.text + ". Press / to change the filter, esc to clear it.")
		default:
			text := "  No refunds yet."
			if v.c.can(ops.ActRefund) {
				text += " Refund an order from Orders (select it, R)."
			}
			b.WriteString(text)
		}
		return padLines(b.String(), v.height)
	}
	end := min(v.list.top+v.rowsHeight(), len(rows))
	cells := make([]string, len(refundColumns))
	var line strings.Builder
	for i := v.list.top; i < end; i++ {
		r := rows[i]
		mark := []byte("  ")
		if i == v.list.sel {
			mark[0] = '>'
		}
		bad := r.Status == gateway.RefundFailed || r.NeedsReview
		if bad {
			mark[1] = '!'
		}
		note := r.Error
		if r.NeedsReview {
			note = "review: " + note
		}
		if r.Source == store.SourcePlatform {
			note = "platform console " + note
		}
		cells[0], cells[1], cells[2], cells[3], cells[4] = string(mark), v.c.local(r.CreatedAt, "01-02 15:04"), r.OutRequestNo, r.OutTradeNo, string(r.Channel)
		cells[5], cells[6], cells[7], cells[8] = r.Amount.Yuan(), string(r.Status), r.Operator, dash(strings.TrimSpace(note))
		line.Reset()
		formatRow(&line, cols, selectCells(refundColumns, cols, cells))
		s := line.String()
		switch {
		case i == v.list.sel:
			s = t.Selected.Render(s)
		case bad:
			s = t.Bad.Render(s)
		case r.Status == gateway.RefundPending:
			s = t.Warn.Render(s)
		}
		b.WriteString(s)
		if i < end-1 {
			b.WriteByte('\n')
		}
	}
	return padLines(b.String(), v.height)
}

func (v *refundsView) ShortHelp() []key.Binding {
	k := v.c.keys
	return []key.Binding{k.Filter, key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open order")), v.retryKey(), k.Help}
}

func (v *refundsView) FullHelp() [][]key.Binding {
	k := v.c.keys
	return [][]key.Binding{k.navHelp(), {k.Filter, key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open order")), k.Back, v.retryKey()}, k.globalHelp()}
}
