package ui

import (
	"cmp"
	"errors"
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/recon"
	"github.com/paydesk/paydesk/store"
)

// findingDetailView is one finding's page (enter in Reconcile): the finding
// and its usual next step, its bill line as the platform wrote it (file,
// line number, every column), the local order with its timeline, the
// callbacks, the latest live query, and the keys of the actions that fit.
// Opening it only reads; the actions are the same keys as on the list.
type findingDetailView struct {
	c             *programContext
	id            int64
	listed        store.Finding // the finding as listed, until its page is read
	d             *ops.FindingDetail
	line          *gateway.LineText
	lineErr       string
	lineRead      bool
	width, height int
	page          textPage
}

type findingDetailMsg struct {
	id  int64
	d   ops.FindingDetail
	err error
}

type billLineMsg struct {
	id   int64
	line gateway.LineText
	err  error
}

func (findingDetailMsg) target() viewID { return reconTab }
func (billLineMsg) target() viewID      { return reconTab }

func newFindingDetailView(c *programContext, f store.Finding) *findingDetailView {
	v := &findingDetailView{c: c, id: f.ID, listed: f}
	v.build()
	return v
}

// reload reads the finding, its order and callbacks (again).
func (v *findingDetailView) reload() tea.Cmd {
	c, id := v.c, v.id
	return func() tea.Msg {
		d, err := c.svc.FindingDetail(c.ctx, id)
		return findingDetailMsg{id: id, d: d, err: err}
	}
}

// readLine reads the bill line once: a bill's lines never change (a
// changed file is refused, not shown).
func (v *findingDetailView) readLine() tea.Cmd {
	if v.listed.BillLine <= 0 {
		v.lineRead = true
		v.build()
		return nil
	}
	c, id := v.c, v.id
	return func() tea.Msg {
		l, err := c.svc.FindingBillLine(c.ctx, id)
		return billLineMsg{id: id, line: l, err: err}
	}
}

func (v *findingDetailView) finding() store.Finding {
	if v.d != nil {
		return v.d.Finding
	}
	return v.listed
}

func (v *findingDetailView) set(d ops.FindingDetail) {
	v.d = &d
	v.build()
}

func (v *findingDetailView) setLine(m billLineMsg) {
	v.lineRead = true
	v.line, v.lineErr = nil, ""
	switch {
	case errors.Is(m.err, ops.ErrNoBillLine):
	case m.err != nil:
		v.lineErr = m.err.Error()
	default:
		l := m.line
		v.line = &l
	}
	v.build()
}

func (v *findingDetailView) setSize(w, h int) {
	v.width, v.height = w, h
	v.build()
}

func (v *findingDetailView) View() string { return v.page.view(v.width, v.height) }

// build lays the page out once per change, so View only slices it.
func (v *findingDetailView) build() {
	t := v.c.theme
	f := v.finding()
	w := max(v.width, 40)
	var l []string
	add := func(s ...string) { l = append(l, s...) }
	indent := func(text string) {
		for _, s := range wrap(text, w-2) {
			add("  " + s)
		}
	}
	state := "open"
	if f.Resolution != "" {
		state = gateway.MaskBuyerIDs(fmt.Sprintf("%s by %s: %s", f.Resolution, f.Resolver, f.Note))
	}
	mark := map[string]string{"critical": "!! ", "warning": "! "}[f.Severity]
	add(t.Title.Render(fmt.Sprintf("Finding %d", f.ID)) + "  " + mark + f.Category + " · " + f.Severity + " · " + string(f.Channel) + " " + f.Day + " · " + state)
	indent(gateway.MaskBuyerIDs(f.Detail))
	add("  Usual action: " + recon.Category(f.Category).Action())

	add("")
	switch {
	case f.BillLine <= 0:
		add(t.Title.Render("Bill line") + "  " + t.Dim.Render("none: the bill has no such booking"))
	case !v.lineRead:
		add(t.Title.Render("Bill line") + "  " + t.Dim.Render(fmt.Sprintf("reading line %d of the kept bill…", f.BillLine)))
	case v.line == nil:
		add(t.Title.Render("Bill line")+fmt.Sprintf("  line %d", f.BillLine), t.Bad.Render("! "+v.lineErr))
	default:
		add(t.Title.Render("Bill line") + "  " + v.line.File + ":" + itoa(v.line.Line) + t.Dim.Render("  (as the platform wrote it; TAB shown as \\t, buyer ids masked)"))
		text, fields := maskedLine(*v.line)
		for _, s := range hardWrap(visibleTabs(text), w-2) {
			add("  " + t.Dim.Render(s))
		}
		nameW := 0
		for _, c := range v.line.Columns {
			nameW = max(nameW, ansi.StringWidth(strings.TrimSpace(c)))
		}
		nameW = min(nameW, 28)
		for i, c := range v.line.Columns {
			add("  " + fit(strings.TrimSpace(c), nameW, false) + "  " + visibleTabs(fields[i]))
		}
	}

	d := v.d
	add("")
	switch {
	case d == nil:
		add(t.Dim.Render("loading the order…"))
	case d.Order == nil && f.OutTradeNo == "":
		add(t.Title.Render("Local order") + "  " + t.Dim.Render("none: the finding names no order"))
	case d.Order == nil:
		add(t.Title.Render("Local order") + "  " + "paydesk has no order " + f.OutTradeNo)
	default:
		o := d.Order.Order
		paid := ""
		if o.Status.IsPaid() {
			paid = fmt.Sprintf(" · paid %s via %s", v.c.local(o.PaidAt, "01-02 15:04:05"), o.PaidVia)
		}
		add(t.Title.Render("Local order "+o.OutTradeNo) + fmt.Sprintf("  %s · %s · %s · trade %s%s", o.Channel, o.Status, o.Amount.Yuan(), dash(o.TradeNo), paid))
		add(fmt.Sprintf("  Timeline (%d events)", len(d.Order.Timeline)))
		add(timelineLines(v.c, d.Order.Timeline, "  ")...)
	}
	if d != nil {
		add("", t.Title.Render(fmt.Sprintf("Callbacks (%d)", len(d.Callbacks))))
		if len(d.Callbacks) == 0 {
			add("  " + t.Dim.Render("none stored for this order number"))
		}
		for _, n := range d.Callbacks {
			s := fmt.Sprintf("  #%d  %s  %s %s %s", n.ID, v.c.local(n.ReceivedAt, "01-02 15:04:05"), dash(string(n.Event)), n.VerifyStatus, n.ApplyStatus)
			if why := cmp.Or(n.ApplyDetail, n.VerifyError); why != "" {
				s += " — " + gateway.MaskBuyerIDs(why)
			}
			if n.ApplyStatus.Failed() {
				s = t.Bad.Render("!" + s[1:])
			}
			add(s)
		}
		add("", t.Title.Render("Live query"))
		add("  " + v.liveQuery(d))
		add("", t.Title.Render("Actions"))
		indent(strings.Join(v.actions(d), " · "))
	}
	v.page.lines = l
	v.page.scroll = min(v.page.scroll, max(len(l)-v.height, 0))
}

// liveQuery is the latest live query of the order and whether it agrees.
func (v *findingDetailView) liveQuery(d *ops.FindingDetail) string {
	if d.Order == nil {
		return "no local order to query"
	}
	qs := d.Order.Queries
	if len(qs) == 0 {
		return "never queried"
	}
	q := qs[0]
	for _, x := range qs {
		if x.At.After(q.At) {
			q = x
		}
	}
	s := fmt.Sprintf("%s by %s: %s", v.c.local(q.At, "01-02 15:04:05"), q.Operator, dash(q.PlatformState))
	switch {
	case q.Error != "" && q.State == "":
		s += " — failed: " + gateway.MaskBuyerIDs(q.Error)
	case ops.Disagrees(d.Order.Order, q):
		s += " — ≠ disagrees with the local order"
	default:
		s += " — agrees"
	}
	return s
}

// actions are the keys that fit this finding and the operator's role.
func (v *findingDetailView) actions(d *ops.FindingDetail) []string {
	c := v.c
	f := d.Finding
	var out []string
	if d.Order != nil && c.can(ops.ActQuery) {
		out = append(out, "r query the platform now")
	}
	if len(d.Callbacks) > 0 && c.can(ops.ActReplay) {
		out = append(out, fmt.Sprintf("P replay callback #%d", d.Callbacks[0].ID))
	}
	if recon.Category(f.Category) == recon.DuplicatePayment && c.can(ops.ActRefund) {
		out = append(out, "R refund the second payment "+f.TradeNo)
	}
	if c.can(ops.ActResolve) {
		out = append(out, "D resolve", "I ignore")
	}
	if d.Order != nil {
		out = append(out, "o open the order in Orders")
	}
	return append(out, "esc back")
}

// maskedLine is a bill line with its buyer's identity masked: the values
// of buyer columns (用户标识, 对方账户) whatever their shape, and any id in
// the text by its shape.
func maskedLine(l gateway.LineText) (text string, fields []string) {
	text = l.Text
	fields = make([]string, len(l.Columns))
	for i, c := range l.Columns {
		if i >= len(l.Fields) {
			continue
		}
		v := l.Fields[i]
		if id := strings.TrimSpace(v); gateway.IsBuyerField(c, false) && id != "" {
			masked := gateway.MaskBuyerID(id)
			v = strings.Replace(v, id, masked, 1)
			text = strings.ReplaceAll(text, id, masked)
		}
		fields[i] = gateway.MaskBuyerIDs(v)
	}
	return gateway.MaskBuyerIDs(text), fields
}

// visibleTabs shows the TABs a platform leaves in its values (Alipay ends
// many with one) as \t, so the text is shown exactly and stays in its
// columns.
func visibleTabs(s string) string { return strings.ReplaceAll(s, "\t", `\t`) }

// hardWrap cuts a line into pieces of at most w cells, wherever it falls:
// a bill line has no spaces to break at, and all of it must show.
func hardWrap(s string, w int) []string {
	if w <= 0 || ansi.StringWidth(s) <= w {
		return []string{s}
	}
	return strings.Split(ansi.Hardwrap(s, w, true), "\n")
}
