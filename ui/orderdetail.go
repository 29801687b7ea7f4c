package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/ops"
)

// orderDetailView is one order's page: its fields, what is refundable, and
// its timeline (created, each callback with its outcome, each query, each
// refund, each operator action), bad events marked '!'.
type orderDetailView struct {
	c             *programContext
	d             ops.OrderDetail
	width, height int
	lines         []string
	scroll        int
}

func newOrderDetailView(c *programContext, d ops.OrderDetail) *orderDetailView {
	v := &orderDetailView{c: c}
	v.set(d)
	return v
}

func (v *orderDetailView) set(d ops.OrderDetail) {
	v.d = d
	v.build()
}

func (v *orderDetailView) setSize(w, h int) {
	v.width, v.height = w, h
	v.build()
}

// build lays the page out once per change, so View only slices it.
func (v *orderDetailView) build() {
	t := v.c.theme
	o := v.d.Order
	var l []string
	l = append(l, t.Title.Render("Order "+o.OutTradeNo)+"  "+t.Dim.Render(gateway.MaskBuyerIDs(o.Subject)))
	field := func(name, value string) { l = append(l, fmt.Sprintf("  %-12s %s", name, value)) }
	field("Channel", string(o.Channel))
	field("Amount", o.Amount.Yuan()+" "+o.Currency)
	field("Status", string(o.Status))
	field("Trade no", dash(o.TradeNo))
	paid := v.c.local(o.PaidAt, "2006-01-02 15:04:05")
	if o.PaidVia != "" {
		paid += " (via " + string(o.PaidVia) + ")"
	}
	field("Paid at", paid)
	field("Refunded", o.Refunded.Yuan())
	refundable := v.d.Refundable.Yuan()
	if v.d.Ceiling.Pending > 0 {
		refundable += fmt.Sprintf(" (%s pending)", v.d.Ceiling.Pending.Yuan())
	}
	if v.d.Ceiling.Abnormal > 0 {
		refundable += fmt.Sprintf(" (%s held by an ABNORMAL refund)", v.d.Ceiling.Abnormal.Yuan())
	}
	field("Refundable", refundable)
	field("Created", v.c.local(o.CreatedAt, "2006-01-02 15:04:05"))
	if len(v.d.Actions) > 0 {
		// What a person must do comes before the history.
		l = append(l, "", t.Bad.Render(fmt.Sprintf("! Needs action (%d)", len(v.d.Actions))))
		for _, a := range v.d.Actions {
			l = append(l, t.Bad.Render(fmt.Sprintf("! refund %s (%s, %s)", a.OutRequestNo, a.Amount.Yuan(), a.Status)))
			for _, w := range wrap(a.Action, max(v.width-4, 40)) {
				l = append(l, "    "+w)
			}
		}
	}
	l = append(l, "", t.Title.Render(fmt.Sprintf("Timeline (%d events)", len(v.d.Timeline))))
	l = append(l, timelineLines(v.c, v.d.Timeline, "")...)
	v.lines = l
	v.scroll = min(v.scroll, max(len(v.lines)-v.height, 0))
}

// timelineLines are an order's events, one a line, each indented by
// indent; bad ones marked '!'.
func timelineLines(c *programContext, tl []ops.TimelineEntry, indent string) []string {
	out := make([]string, 0, len(tl))
	for _, e := range tl {
		mark := " "
		if e.Bad {
			mark = "!"
		}
		line := fmt.Sprintf("%s%s %s  %-12s %s", indent, mark, c.local(e.At, "01-02 15:04:05"), e.Kind, gateway.MaskBuyerIDs(e.Text))
		if e.Bad {
			line = c.theme.Bad.Render(line)
		}
		out = append(out, line)
	}
	return out
}

func (v *orderDetailView) update(msg tea.KeyMsg) {
	k := v.c.keys
	maxScroll := max(len(v.lines)-v.height, 0)
	switch {
	case key.Matches(msg, k.Down):
		v.scroll++
	case key.Matches(msg, k.Up):
		v.scroll--
	case key.Matches(msg, k.PageDown):
		v.scroll += v.height
	case key.Matches(msg, k.PageUp):
		v.scroll -= v.height
	case key.Matches(msg, k.Top):
		v.scroll = 0
	case key.Matches(msg, k.Bottom):
		v.scroll = maxScroll
	}
	v.scroll = min(max(v.scroll, 0), maxScroll)
}

func (v *orderDetailView) View() string {
	end := min(v.scroll+v.height, len(v.lines))
	return padLines(truncateLines(strings.Join(v.lines[v.scroll:end], "\n"), v.width), v.height)
}

func (v *orderDetailView) ShortHelp() []key.Binding {
	k := v.c.keys
	return []key.Binding{k.Back, only(k.Query, v.c.can(ops.ActQuery)), only(k.Refund, v.c.can(ops.ActRefund)), k.Help}
}

func (v *orderDetailView) FullHelp() [][]key.Binding {
	k := v.c.keys
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
		{k.Back, only(k.Query, v.c.can(ops.ActQuery)), only(k.Refund, v.c.can(ops.ActRefund))},
		k.globalHelp(),
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
