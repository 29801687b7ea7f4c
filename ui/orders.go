package ui

import (
	"fmt"
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/store"
)

// Orders keeps a window of rows around the selection, never the table:
// pages of orderChunk rows are read by keyset as the selection nears an
// edge, and the far end is dropped past orderWindowMax. Memory and frame
// time are the same at a thousand orders and at a million.
const (
	orderChunk     = 100
	orderWindowMax = 3 * orderChunk
)

type pageDir int

const (
	pageFirst   pageDir = iota // from the newest
	pageLast                   // the oldest page
	pageOlder                  // after the window
	pageNewer                  // before the window
	pageReshown                // the rows on screen, read again
)

// ordersPageMsg is one page read for the window. gen is the filter
// generation it was asked under and from the id of the edge row it was
// read from; a page that no longer fits the window is dropped.
type ordersPageMsg struct {
	gen  int
	dir  pageDir
	from int64
	page ops.OrderPage
	err  error
	// reshown says what a pageReshown read must keep on screen.
	reshown reshown
}

// reshown is the screen a pageReshown read started from: the selected
// order and its place on the screen, the screen's top row, and whether the
// read started from the newest order (else from that top row, included).
type reshown struct {
	keep       string
	screenRow  int
	top        int
	fromNewest bool
	follow     bool // the newest order was selected: stay on the newest
}

type ordersCountMsg struct {
	gen int
	n   ops.Count
	err error
}

// orderQueryMsg ends a single or bulk live query.
type orderQueryMsg struct {
	nos     []string
	results []ops.QueryResult
	err     error
}

// orderQueryProgress reports one finished query of a bulk query.
type orderQueryProgress struct {
	task        int
	done, total int
	last        ops.QueryResult
}

func (p orderQueryProgress) progress() (int, int, int) { return p.task, p.done, p.total }

// orderRowsMsg carries fresh copies of rows after a query or refund.
type orderRowsMsg struct {
	rows []ops.OrderRow
	err  error
}

// orderDetailMsg is ShowOrder's answer, for the timeline or a refund form.
type orderDetailMsg struct {
	no     string
	refund bool
	detail ops.OrderDetail
	err    error
}

func (ordersPageMsg) target() viewID      { return ordersTab }
func (ordersCountMsg) target() viewID     { return ordersTab }
func (orderQueryMsg) target() viewID      { return ordersTab }
func (orderQueryProgress) target() viewID { return ordersTab }
func (orderRowsMsg) target() viewID       { return ordersTab }
func (orderDetailMsg) target() viewID     { return ordersTab }

type cursorKey int

const (
	keyCreated cursorKey = iota
	keyOutTradeNo
	keyTradeNo
)

type ordersView struct {
	c             *programContext
	width, height int

	q         orderQuery
	input     textinput.Model
	filtering bool
	filterErr string

	rows    []ops.OrderRow
	key     cursorKey
	sel     int
	top     int
	atStart bool
	atEnd   bool
	// loading* are the reads in flight; one per direction at most.
	loadingFirst, loadingOlder, loadingNewer bool
	gen                                      int
	loadErr                                  string

	total   ops.Count
	counted bool
	// countGen is the filter's generation, for counts (pages read again
	// move gen but keep the count).
	countGen int
	// base is the position of rows[0] in the listing, counted from the
	// top; after a jump to the bottom the position is known from the end
	// instead (after: rows below the window) until the count arrives.
	base    int
	fromEnd bool
	after   int

	marked   map[string]bool
	querying map[string]bool

	detail *orderDetailView
}

func newOrdersView(c *programContext) *ordersView {
	v := &ordersView{c: c, marked: map[string]bool{}, querying: map[string]bool{}}
	v.input = newInput(v.c.theme, "status:paid channel:wechat 2026-11-22 PD2026…", 60)
	return v
}

func (v *ordersView) Init() tea.Cmd { return v.reload() }

func (v *ordersView) SetSize(w, h int) {
	v.width, v.height = w, h
	v.input.Width = max(10, w-12)
	if v.detail != nil {
		v.detail.setSize(w, h)
	}
	v.top = scrollTop(v.sel, v.top, v.pageRows(), len(v.rows))
}

// pageRows is how many rows fit under the filter line and the header.
func (v *ordersView) pageRows() int { return max(1, v.height-2) }

func (v *ordersView) Focused() bool {
	return v.filtering
}

// reload starts the listing over for the current filter.
func (v *ordersView) reload() tea.Cmd {
	v.gen++
	v.rows, v.sel, v.top = nil, 0, 0
	v.atStart, v.atEnd = true, false
	v.loadingOlder, v.loadingNewer = false, false
	v.loadingFirst = true
	v.counted, v.base, v.fromEnd, v.after = false, 0, false, 0
	v.loadErr = ""
	v.countGen++
	return tea.Batch(v.fetch(pageFirst, nil), v.count())
}

// watches: an order's row shows its status (callbacks, live queries,
// refunds, imports), its platform state (queries), its latest callback and
// its refunded amount; operator actions on it are audited.
func (v *ordersView) watches(old, now ops.Changes) bool {
	return old.Orders != now.Orders || old.Attempts != now.Attempts || old.Queries != now.Queries ||
		old.Refunds != now.Refunds || old.Audit != now.Audit || old.Notifications != now.Notifications
}

// reloadShown reads again the open order, or the rows on screen and a
// page after them (by keyset from the top row of the screen) and the
// count. The selection stays on its order, at its place on the screen;
// with the newest order selected it stays on the newest, so new orders
// come into view at the top.
func (v *ordersView) reloadShown() tea.Cmd {
	if v.detail != nil {
		return v.showOrder(v.detail.d.Order.OutTradeNo, false)
	}
	if v.loadingFirst {
		return nil
	}
	if len(v.rows) == 0 {
		return v.reload()
	}
	v.gen++
	v.loadingFirst, v.loadingOlder, v.loadingNewer = true, false, false
	r := reshown{screenRow: v.sel - v.top, top: v.top, follow: v.atStart && v.sel == 0}
	if sel, ok := v.selected(); ok {
		r.keep = sel.OutTradeNo
	}
	c, f, gen := v.c, v.q.f, v.gen
	limit := orderChunk
	var from *store.Cursor
	if v.atStart {
		// New orders arrive at the top: read from the newest, enough to
		// cover the screen as it is.
		r.fromNewest = true
		limit = min(max(orderChunk, v.top+v.pageRows()+orderChunk/2), orderWindowMax)
	} else {
		k := v.cursorOf(v.rows[v.top])
		// The keyset reads rows after the cursor; one id past the top row
		// (in the listing's direction) puts that row itself in the page.
		if v.key == keyCreated {
			k.ID++
		} else {
			k.ID--
		}
		from = &k
	}
	return tea.Batch(func() tea.Msg {
		p, err := c.svc.ListOrders(c.ctx, f, from, store.Older, limit)
		return ordersPageMsg{gen: gen, dir: pageReshown, page: p, err: err, reshown: r}
	}, v.count())
}

func (v *ordersView) fetch(dir pageDir, from *ops.OrderRow) tea.Cmd {
	c, f, gen := v.c, v.q.f, v.gen
	var cur *store.Cursor
	var fromID int64
	sdir := store.Older
	switch dir {
	case pageLast:
		sdir = store.Newer
	case pageNewer:
		sdir = store.Newer
		k := v.cursorOf(*from)
		cur, fromID = &k, from.ID
	case pageOlder:
		k := v.cursorOf(*from)
		cur, fromID = &k, from.ID
	}
	return func() tea.Msg {
		p, err := c.svc.ListOrders(c.ctx, f, cur, sdir, orderChunk)
		return ordersPageMsg{gen: gen, dir: dir, from: fromID, page: p, err: err}
	}
}

// count counts what the filter selects, up to ops.CountLimit: a prefix
// that matches every order is "100,000+", not a wait.
func (v *ordersView) count() tea.Cmd {
	c, f, gen := v.c, v.q.f, v.countGen
	return func() tea.Msg {
		n, err := c.svc.CountOrdersUpTo(c.ctx, f)
		return ordersCountMsg{gen: gen, n: n, err: err}
	}
}

// cursorOf rebuilds a row's keyset cursor. The store sorts a number
// listing by whichever number matched (learnt from the first page), and
// any other listing by creation time.
func (v *ordersView) cursorOf(r ops.OrderRow) store.Cursor {
	k := store.Cursor{CreatedAt: r.CreatedAt, ID: r.ID}
	switch v.key {
	case keyOutTradeNo:
		k.Number = r.OutTradeNo
	case keyTradeNo:
		k.Number = r.TradeNo
	}
	return k
}

func (v *ordersView) learnKey(p ops.OrderPage) {
	switch {
	case len(p.Rows) == 0 || p.First.Number == "":
		v.key = keyCreated
	case p.First.Number == p.Rows[0].OutTradeNo:
		v.key = keyOutTradeNo
	default:
		v.key = keyTradeNo
	}
}

func (v *ordersView) selected() (ops.OrderRow, bool) {
	if v.sel < 0 || v.sel >= len(v.rows) {
		return ops.OrderRow{}, false
	}
	return v.rows[v.sel], true
}

func (v *ordersView) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case ordersPageMsg:
		return v, v.applyPage(msg)
	case ordersCountMsg:
		if msg.gen != v.countGen {
			return v, nil
		}
		if msg.err != nil {
			return v, errToast("count orders", msg.err)
		}
		v.total, v.counted = msg.n, true
		return v, nil
	case orderQueryProgress:
		delete(v.querying, msg.last.OutTradeNo)
		return v, v.refreshRows([]string{msg.last.OutTradeNo})
	case orderQueryMsg:
		return v, v.queryDone(msg)
	case orderRowsMsg:
		if msg.err != nil {
			return v, errToast("refresh", msg.err)
		}
		for _, r := range msg.rows {
			if i := v.indexOf(r.OutTradeNo); i >= 0 {
				v.rows[i] = r
			}
		}
		return v, nil
	case refundDoneMsg:
		cmds := []tea.Cmd{refundToast(msg)}
		cmds = append(cmds, v.refreshRows([]string{msg.order}))
		if v.detail != nil && v.detail.d.Order.OutTradeNo == msg.order {
			cmds = append(cmds, v.showOrder(msg.order, false))
		}
		return v, tea.Batch(cmds...)
	case orderDetailMsg:
		if msg.err != nil {
			return v, errToast("order "+msg.no, msg.err)
		}
		if msg.refund {
			d := msg.detail
			if !d.Order.Status.IsPaid() {
				return v, toastCmd(toastInfo, fmt.Sprintf("%s is %s, not paid: nothing to refund", d.Order.OutTradeNo, d.Order.Status))
			}
			if d.Refundable <= 0 {
				return v, toastCmd(toastInfo, fmt.Sprintf("%s has nothing left to refund (refunded %s, pending %s)",
					d.Order.OutTradeNo, d.Ceiling.Succeeded.Yuan(), d.Ceiling.Pending.Yuan()))
			}
			return v, v.c.open(newRefundForm(v.c, ordersTab, d.Order, d.Refundable))
		}
		if v.detail != nil && v.detail.d.Order.OutTradeNo == msg.no {
			v.detail.set(msg.detail)
		} else {
			v.detail = newOrderDetailView(v.c, msg.detail)
			v.detail.setSize(v.width, v.height)
		}
		return v, nil
	case tea.KeyMsg:
		if v.filtering {
			return v, v.updateFilter(msg)
		}
		if v.detail != nil {
			return v, v.updateDetail(msg)
		}
		return v, v.updateList(msg)
	case tea.MouseMsg:
		if v.detail != nil {
			return v, nil
		}
		switch msg.Button {
		case tea.MouseButtonWheelDown:
			return v, v.move(3)
		case tea.MouseButtonWheelUp:
			return v, v.move(-3)
		}
	}
	return v, nil
}

func (v *ordersView) updateFilter(msg tea.KeyMsg) tea.Cmd {
	switch msg.Type {
	case tea.KeyEsc:
		v.filtering, v.filterErr = false, ""
		v.input.Blur()
		return nil
	case tea.KeyEnter:
		q, err := parseOrderFilter(v.input.Value(), v.c.zone)
		if err != nil {
			v.filterErr = err.Error()
			return nil
		}
		v.filtering, v.filterErr = false, ""
		v.input.Blur()
		v.q = q
		return v.reload()
	}
	var cmd tea.Cmd
	v.input, cmd = v.input.Update(msg)
	return cmd
}

func (v *ordersView) updateList(msg tea.KeyMsg) tea.Cmd {
	k := v.c.keys
	switch {
	case key.Matches(msg, k.Filter):
		v.filtering = true
		v.input.SetValue(v.q.text)
		v.input.CursorEnd()
		v.input.Focus()
		return nil
	case key.Matches(msg, k.Down):
		return v.move(1)
	case key.Matches(msg, k.Up):
		return v.move(-1)
	case key.Matches(msg, k.PageDown):
		return v.move(v.pageRows())
	case key.Matches(msg, k.PageUp):
		return v.move(-v.pageRows())
	case key.Matches(msg, k.Top):
		return v.toTop()
	case key.Matches(msg, k.Bottom):
		return v.toBottom()
	case key.Matches(msg, k.Back):
		if v.q.text != "" {
			v.q = orderQuery{}
			return v.reload()
		}
	case key.Matches(msg, k.Enter):
		if r, ok := v.selected(); ok {
			return v.showOrder(r.OutTradeNo, false)
		}
	case key.Matches(msg, k.Mark):
		if r, ok := v.selected(); ok {
			if v.marked[r.OutTradeNo] {
				delete(v.marked, r.OutTradeNo)
			} else {
				v.marked[r.OutTradeNo] = true
			}
			return v.move(1)
		}
	case key.Matches(msg, k.ClearMark):
		clear(v.marked)
	case key.Matches(msg, v.queryKey()):
		if len(v.marked) > 0 {
			nos := make([]string, 0, len(v.marked))
			for no := range v.marked {
				nos = append(nos, no)
			}
			slices.Sort(nos)
			return v.query(nos)
		}
		if r, ok := v.selected(); ok {
			return v.query([]string{r.OutTradeNo})
		}
	case key.Matches(msg, v.refundKey()):
		if r, ok := v.selected(); ok {
			return v.startRefund(r.Order)
		}
	}
	return nil
}

func (v *ordersView) queryKey() key.Binding {
	return only(v.c.keys.Query, v.c.can(ops.ActQuery))
}

func (v *ordersView) refundKey() key.Binding {
	return only(v.c.keys.Refund, v.c.can(ops.ActRefund))
}

// startRefund reads the order's ceiling first: the form's default is what
// is still refundable after succeeded and pending refunds.
func (v *ordersView) startRefund(o store.Order) tea.Cmd {
	if !o.Status.IsPaid() {
		return toastCmd(toastInfo, fmt.Sprintf("%s is %s, not paid: nothing to refund", o.OutTradeNo, o.Status))
	}
	return v.showOrder(o.OutTradeNo, true)
}

func (v *ordersView) showOrder(no string, refund bool) tea.Cmd {
	c := v.c
	return func() tea.Msg {
		d, err := c.svc.ShowOrder(c.ctx, no)
		return orderDetailMsg{no: no, refund: refund, detail: d, err: err}
	}
}

// openOrder opens one order's timeline (`:order NO`, jumps from other
// views).
func (v *ordersView) openOrder(no string) tea.Cmd { return v.showOrder(no, false) }

// query runs live queries for nos: one directly, several through
// ops.QueryTrades with the configured rate limit and concurrency.
func (v *ordersView) query(nos []string) tea.Cmd {
	for _, no := range nos {
		v.querying[no] = true
	}
	c := v.c
	if len(nos) == 1 {
		no := nos[0]
		return c.startTask("querying "+no, func(int, func(tea.Msg)) tea.Msg {
			r, err := c.svc.QueryTrade(c.ctx, no)
			return orderQueryMsg{nos: nos, results: []ops.QueryResult{r}, err: err}
		})
	}
	opt := ops.QueryOptions{Concurrency: c.opts.QueryConcurrency, QPS: c.opts.QueryQPS}
	return c.startTask(fmt.Sprintf("querying %d orders", len(nos)), func(id int, report func(tea.Msg)) tea.Msg {
		opt.Progress = func(done, total int, last ops.QueryResult) {
			report(orderQueryProgress{task: id, done: done, total: total, last: last})
		}
		res, err := c.svc.QueryTrades(c.ctx, nos, opt)
		return orderQueryMsg{nos: nos, results: res, err: err}
	})
}

func (v *ordersView) queryDone(msg orderQueryMsg) tea.Cmd {
	for _, no := range msg.nos {
		delete(v.querying, no)
	}
	cmds := []tea.Cmd{v.refreshRows(msg.nos)}
	if v.detail != nil && slices.Contains(msg.nos, v.detail.d.Order.OutTradeNo) {
		cmds = append(cmds, v.showOrder(v.detail.d.Order.OutTradeNo, false))
	}
	switch {
	case msg.err != nil && len(msg.nos) == 1:
		cmds = append(cmds, errToast("query "+msg.nos[0], msg.err))
	case msg.err != nil:
		cmds = append(cmds, errToast(fmt.Sprintf("query %d orders", len(msg.nos)), msg.err))
	case len(msg.results) == 1:
		r := msg.results[0]
		text := fmt.Sprintf("%s: %s", r.OutTradeNo, r.Note)
		kind := toastOK
		if r.Disagrees {
			kind, text = toastErr, "≠ "+text
		}
		cmds = append(cmds, toastCmd(kind, text))
	default:
		failed, disagree, applied := 0, 0, 0
		for _, r := range msg.results {
			switch {
			case r.Err != "":
				failed++
			case r.Disagrees:
				disagree++
			}
			if r.Applied {
				applied++
			}
		}
		kind := toastOK
		if failed+disagree > 0 {
			kind = toastErr
		}
		clear(v.marked)
		cmds = append(cmds, toastCmd(kind, fmt.Sprintf("queried %d orders: %d disagree, %d failed, %d marked paid",
			len(msg.results), disagree, failed, applied)))
	}
	return tea.Batch(cmds...)
}

// refreshRows re-reads the rows of nos that are in the window, each by its
// number (an index lookup), so their platform and callback columns show
// what was just logged.
func (v *ordersView) refreshRows(nos []string) tea.Cmd {
	var want []string
	for _, no := range nos {
		if v.indexOf(no) >= 0 {
			want = append(want, no)
		}
	}
	if len(want) == 0 {
		return nil
	}
	c := v.c
	return func() tea.Msg {
		var out []ops.OrderRow
		for _, no := range want {
			p, err := c.svc.ListOrders(c.ctx, store.OrderFilter{Number: no}, nil, store.Older, 1)
			if err != nil {
				return orderRowsMsg{err: err}
			}
			if len(p.Rows) == 1 && p.Rows[0].OutTradeNo == no {
				out = append(out, p.Rows[0])
			}
		}
		return orderRowsMsg{rows: out}
	}
}

func (v *ordersView) indexOf(no string) int {
	for i := range v.rows {
		if v.rows[i].OutTradeNo == no {
			return i
		}
	}
	return -1
}

// move moves the selection and asks for the next page before the
// selection reaches the window's edge, so scrolling never waits.
func (v *ordersView) move(d int) tea.Cmd {
	if len(v.rows) == 0 {
		return nil
	}
	v.sel = min(max(v.sel+d, 0), len(v.rows)-1)
	v.top = scrollTop(v.sel, v.top, v.pageRows(), len(v.rows))
	return v.prefetch()
}

func (v *ordersView) prefetch() tea.Cmd {
	margin := v.pageRows() + orderChunk/2
	var cmds []tea.Cmd
	if !v.atEnd && !v.loadingOlder && !v.loadingFirst && len(v.rows)-1-v.sel < margin {
		v.loadingOlder = true
		last := v.rows[len(v.rows)-1]
		cmds = append(cmds, v.fetch(pageOlder, &last))
	}
	if !v.atStart && !v.loadingNewer && !v.loadingFirst && v.sel < margin {
		v.loadingNewer = true
		first := v.rows[0]
		cmds = append(cmds, v.fetch(pageNewer, &first))
	}
	return tea.Batch(cmds...)
}

func (v *ordersView) toTop() tea.Cmd {
	if v.atStart {
		return v.move(-len(v.rows))
	}
	v.gen++
	v.loadingFirst, v.loadingOlder, v.loadingNewer = true, false, false
	return v.fetch(pageFirst, nil)
}

func (v *ordersView) toBottom() tea.Cmd {
	if v.atEnd {
		return v.move(len(v.rows))
	}
	v.gen++
	v.loadingFirst, v.loadingOlder, v.loadingNewer = true, false, false
	return v.fetch(pageLast, nil)
}

func (v *ordersView) applyPage(msg ordersPageMsg) tea.Cmd {
	if msg.gen != v.gen {
		return nil
	}
	switch msg.dir {
	case pageFirst, pageLast, pageReshown:
		v.loadingFirst = false
	case pageOlder:
		v.loadingOlder = false
	case pageNewer:
		v.loadingNewer = false
	}
	if msg.err != nil {
		v.loadErr = msg.err.Error()
		return errToast("list orders", msg.err)
	}
	v.loadErr = ""
	rows := msg.page.Rows
	full := len(rows) == orderChunk
	switch msg.dir {
	case pageFirst:
		v.learnKey(msg.page)
		v.rows = rows
		v.sel, v.top = 0, 0
		v.atStart, v.atEnd = true, !full
		v.base, v.fromEnd = 0, false
	case pageLast:
		v.learnKey(msg.page)
		v.rows = rows
		v.sel = max(len(rows)-1, 0)
		v.atEnd, v.atStart = true, !full
		v.fromEnd, v.after = true, 0
	case pageOlder:
		if len(v.rows) == 0 || v.rows[len(v.rows)-1].ID != msg.from {
			return nil // the window moved on since this was asked
		}
		v.rows = append(v.rows, rows...)
		v.atEnd = !full
		if v.fromEnd {
			v.after -= len(rows)
		}
		if drop := len(v.rows) - orderWindowMax; drop > 0 {
			v.rows = slices.Clone(v.rows[drop:])
			v.sel, v.top = v.sel-drop, max(v.top-drop, 0)
			v.atStart = false
			v.base += drop
		}
	case pageReshown:
		v.reshow(rows, full, msg.reshown)
	case pageNewer:
		if len(v.rows) == 0 || v.rows[0].ID != msg.from {
			return nil
		}
		v.rows = append(slices.Clone(rows), v.rows...)
		v.sel += len(rows)
		v.top += len(rows)
		v.atStart = !full
		v.base -= len(rows)
		if drop := len(v.rows) - orderWindowMax; drop > 0 {
			v.rows = v.rows[:orderWindowMax:orderWindowMax]
			v.atEnd = false
			if v.fromEnd {
				v.after += drop
			}
		}
	}
	if v.atStart {
		v.base, v.fromEnd = 0, false
	}
	v.top = scrollTop(v.sel, v.top, v.pageRows(), len(v.rows))
	return v.prefetch()
}

// reshow takes the rows on screen read again (see reloadShown).
func (v *ordersView) reshow(rows []ops.OrderRow, full bool, r reshown) {
	oldLen := len(v.rows)
	v.rows, v.atEnd = rows, !full
	if r.fromNewest {
		v.atStart, v.base, v.fromEnd = true, 0, false
	} else {
		// The rows above the screen left the window.
		v.atStart = false
		if v.fromEnd {
			v.after = max(v.after+oldLen-r.top-len(rows), 0)
		} else {
			v.base += r.top
		}
	}
	sel, top := 0, 0
	switch i := v.indexOf(r.keep); {
	case r.follow || len(rows) == 0:
	case i >= 0:
		sel, top = i, i-r.screenRow
	case r.fromNewest:
		// The selected order left the filter: the same place on the screen.
		sel = min(r.top+r.screenRow, len(rows)-1)
		top = sel - r.screenRow
	default:
		sel = min(r.screenRow, len(rows)-1)
	}
	v.sel = max(sel, 0)
	v.top = scrollTop(v.sel, max(top, 0), v.pageRows(), len(v.rows))
}

// position is the selection's 1-based place in the listing, 0 if unknown.
func (v *ordersView) position() int {
	if len(v.rows) == 0 {
		return 0
	}
	if !v.fromEnd {
		return v.base + v.sel + 1
	}
	if !v.counted || v.total.More {
		return 0
	}
	return v.total.N - v.after - (len(v.rows) - 1 - v.sel)
}

// columns of the list, in priority for narrow terminals. The trade
// number and the subject show only on wide terminals.
var orderColumns = []column{
	{title: "", width: 3},
	{title: "CREATED", width: 11},
	{title: "OUT_TRADE_NO", width: 18, flex: true, number: true},
	{title: "TRADE_NO", width: 19, prio: 5, number: true},
	{title: "CH", width: 6, prio: 1},
	{title: "AMOUNT", width: 11, right: true},
	{title: "LOCAL", width: 8},
	{title: "PLATFORM", width: 13},
	{title: "CALLBACK", width: 9, prio: 2},
	{title: "REFUNDED", width: 10, right: true, prio: 3},
	{title: "SUBJECT", width: 10, flex: true, prio: 4},
}

// columns fits the columns to the width; on a wide terminal the number
// columns are as wide as the longest number in the window.
func (v *ordersView) columns() []column {
	widest := map[string]int{}
	if v.width >= wideLayout {
		for i := range v.rows {
			widen(widest, "OUT_TRADE_NO", v.rows[i].OutTradeNo)
			widen(widest, "TRADE_NO", v.rows[i].TradeNo)
		}
	}
	return fitNumbers(orderColumns, v.width, widest)
}

func shortStatus(s store.OrderStatus) string {
	if s == store.OrderPartiallyRefunded {
		return "PARTIAL"
	}
	return string(s)
}

// platformCell shows the latest live query: its state and age, a spinner
// while one runs, or the failure.
func (v *ordersView) platformCell(r ops.OrderRow) string {
	if v.querying[r.OutTradeNo] {
		return v.c.spin + " query…"
	}
	q := r.Platform
	switch {
	case q == nil:
		return "-"
	case q.State != "":
		return string(q.State) + " " + v.c.age(q.At)
	case q.PlatformState != "":
		return q.PlatformState + " " + v.c.age(q.At)
	}
	return "error " + v.c.age(q.At)
}

func (v *ordersView) View() string {
	if v.detail != nil {
		return v.detail.View()
	}
	var b strings.Builder
	b.WriteString(v.filterLine())
	b.WriteByte('\n')
	cols := v.columns()
	if v.filtering && v.filterErr != "" {
		b.WriteString(truncateLines(v.c.theme.Bad.Render("error: "+v.filterErr), v.width))
	} else {
		b.WriteString(v.c.theme.ColHeader.Render(header(cols)))
	}
	b.WriteByte('\n')
	if len(v.rows) == 0 {
		b.WriteString(v.emptyText())
		return padLines(b.String(), v.height)
	}
	end := min(v.top+v.pageRows(), len(v.rows))
	cells := make([]string, len(orderColumns))
	var line strings.Builder
	for i := v.top; i < end; i++ {
		r := v.rows[i]
		mark := []byte("   ")
		if i == v.sel {
			mark[0] = '>'
		}
		if v.marked[r.OutTradeNo] {
			mark[1] = '*'
		}
		marker := string(mark)
		bad := r.Disagrees
		if bad {
			marker = marker[:2] + "≠"
		}
		refunded := "-"
		if r.Refunded > 0 {
			refunded = r.Refunded.Yuan()
		}
		callback := "-"
		if r.Callback != "" {
			callback = string(r.Callback)
		}
		cells[0], cells[1], cells[2], cells[3], cells[4] = marker, v.c.local(r.CreatedAt, "01-02 15:04"), r.OutTradeNo, dash(r.TradeNo), string(r.Channel)
		cells[5], cells[6], cells[7], cells[8], cells[9] = r.Amount.Yuan(), shortStatus(r.Status), v.platformCell(r), callback, refunded
		cells[10] = gateway.MaskBuyerIDs(r.Subject)
		line.Reset()
		formatRow(&line, cols, selectCells(orderColumns, cols, cells))
		s := line.String()
		switch {
		case i == v.sel:
			s = v.c.theme.Selected.Render(s)
		case bad:
			s = v.c.theme.Disagree.Render(s)
		case v.marked[r.OutTradeNo]:
			s = v.c.theme.Marked.Render(s)
		}
		b.WriteString(s)
		if i < end-1 {
			b.WriteByte('\n')
		}
	}
	return padLines(b.String(), v.height)
}

func (v *ordersView) filterLine() string {
	t := v.c.theme
	if v.filtering {
		return truncateLines("/ "+v.input.View(), v.width)
	}
	parts := []string{}
	if v.q.text != "" {
		parts = append(parts, "filter: "+v.q.text)
	} else {
		parts = append(parts, "all orders")
	}
	switch {
	case v.counted:
		pos := v.position()
		if pos > 0 {
			parts = append(parts, fmt.Sprintf("%s of %s", group(pos), countOf(v.total, "order", "orders")))
		} else {
			parts = append(parts, countOf(v.total, "order", "orders"))
		}
	default:
		parts = append(parts, "counting…")
	}
	if n := len(v.marked); n > 0 {
		parts = append(parts, fmt.Sprintf("%d marked", n))
	}
	if v.loadingFirst || v.loadingOlder || v.loadingNewer {
		parts = append(parts, "loading…")
	}
	return truncateLines(t.Dim.Render(strings.Join(parts, " · ")), v.width)
}

func (v *ordersView) emptyText() string {
	t := v.c.theme
	switch {
	case v.loadingFirst:
		return t.Dim.Render("  loading…")
	case v.loadErr != "":
		return t.Bad.Render("  error: " + v.loadErr)
	case v.q.text != "":
		return "  No orders match " + v.q.text + ". Press / to change the filter, esc to clear it."
	}
	return "  No orders yet. Import them with `paydesk orders import FILE` (CSV or JSONL)."
}

// ShortHelp and FullHelp make the view a help.KeyMap; mutating keys show
// only when the role allows them.
func (v *ordersView) ShortHelp() []key.Binding {
	k := v.c.keys
	if v.detail != nil {
		return v.detail.ShortHelp()
	}
	return []key.Binding{k.Filter, k.Enter, v.queryKey(), v.refundKey(), k.Help}
}

func (v *ordersView) FullHelp() [][]key.Binding {
	k := v.c.keys
	if v.detail != nil {
		return v.detail.FullHelp()
	}
	return [][]key.Binding{
		k.navHelp(),
		{k.Filter, k.Enter, k.Back, k.Mark, k.ClearMark, v.queryKey(), v.refundKey()},
		k.globalHelp(),
	}
}

func (v *ordersView) updateDetail(msg tea.KeyMsg) tea.Cmd {
	k := v.c.keys
	d := v.detail
	switch {
	case key.Matches(msg, k.Back):
		v.detail = nil
		return nil
	case key.Matches(msg, v.queryKey()):
		return v.query([]string{d.d.Order.OutTradeNo})
	case key.Matches(msg, v.refundKey()):
		return v.startRefund(d.d.Order)
	}
	d.update(msg)
	return nil
}
