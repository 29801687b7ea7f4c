package ui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/store"
)

// notificationsView lists stored callbacks newest first, shows one's raw
// request (buyer ids masked) with its attempts, and replays one, or every
// failed one in the filter after saying how many. On its newest page it is
// a live tail: callbacks appear as they arrive (see reloadShown).
type notificationsView struct {
	pagedList[store.Notification, store.NotificationFilter]
	total   ops.Count
	counted bool
	// countGen is the filter's generation: a count read under an older
	// filter is dropped (the list's own generation also moves when a page
	// is read again, which must not drop a count).
	countGen int
	detail   *notificationDetail
}

type notificationDetail struct {
	n     store.Notification
	page  textPage
	attem []store.Attempt
}

type notificationCountMsg struct {
	gen int
	n   ops.Count
	err error
}

type notificationMsg struct {
	id       int64
	n        store.Notification
	attempts []store.Attempt
	err      error
}

type replayDoneMsg struct {
	id  int64
	res ops.IntakeResult
	err error
}

// failedIDsMsg is the set a bulk replay would touch, read before asking.
type failedIDsMsg struct {
	ids []int64
	err error
}

type replayProgress struct {
	task, done, total int
}

func (p replayProgress) progress() (int, int, int) { return p.task, p.done, p.total }

type replayAllDoneMsg struct {
	results []ops.ReplayResult
	err     error
}

func (notificationCountMsg) target() viewID { return notificationsTab }
func (notificationMsg) target() viewID      { return notificationsTab }
func (replayDoneMsg) target() viewID        { return notificationsTab }
func (failedIDsMsg) target() viewID         { return notificationsTab }
func (replayProgress) target() viewID       { return notificationsTab }
func (replayAllDoneMsg) target() viewID     { return notificationsTab }

func newNotificationsView(c *programContext) *notificationsView {
	v := &notificationsView{}
	v.init(c, notificationsTab, "failed channel:alipay order:PD2026… 2026-11-22",
		func(n store.Notification) int64 { return n.ID }, (*ops.Service).ListNotifications, parseNotificationFilter)
	v.restart = v.reload
	return v
}

// reload starts the list from its newest row and counts what the filter
// matches, both under the list's new generation.
func (v *notificationsView) reload() tea.Cmd {
	cmd := v.list.reset(notificationsTab, v.fetch())
	v.counted = false
	v.countGen++
	return tea.Batch(cmd, v.count())
}

// count counts what the filter matches (up to ops.CountLimit) under the
// list's current generation.
func (v *notificationsView) count() tea.Cmd {
	c, f, gen := v.c, v.q.f, v.countGen
	return func() tea.Msg {
		n, err := c.svc.CountNotificationsUpTo(c.ctx, f)
		return notificationCountMsg{gen: gen, n: n, err: err}
	}
}

// watches: a callback arrives as a stored notification and is decided by
// an attempt; a replay adds an attempt too.
func (v *notificationsView) watches(old, now ops.Changes) bool {
	return old.Notifications != now.Notifications || old.Attempts != now.Attempts
}

// reloadShown reads the page on screen and its count again, and the open
// notification with its attempts.
func (v *notificationsView) reloadShown() tea.Cmd {
	cmds := []tea.Cmd{v.refreshPage()}
	cmds = append(cmds, v.count())
	if v.detail != nil {
		cmds = append(cmds, v.open(v.detail.n.ID))
	}
	return tea.Batch(cmds...)
}

func (v *notificationsView) replayKey() key.Binding {
	return only(v.c.keys.Replay, v.c.can(ops.ActReplay))
}

func (v *notificationsView) replayAllKey() key.Binding {
	return only(v.c.keys.ReplayAll, v.c.can(ops.ActReplay))
}

func (v *notificationsView) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case listPageMsg[store.Notification]:
		return v, v.pageLoaded(msg, "list notifications")
	case notificationCountMsg:
		if msg.gen != v.countGen {
			return v, nil
		}
		if msg.err != nil {
			return v, errToast("count notifications", msg.err)
		}
		v.total, v.counted = msg.n, true
	case notificationMsg:
		if msg.err != nil {
			return v, errToast(fmt.Sprintf("notification %d", msg.id), msg.err)
		}
		keep := 0
		if v.detail != nil && v.detail.n.ID == msg.id {
			keep = v.detail.page.scroll
		}
		v.detail = &notificationDetail{n: msg.n, attem: msg.attempts}
		v.detail.page.lines = v.detailLines(msg.n, msg.attempts)
		v.detail.page.scroll = keep
	case replayDoneMsg:
		cmds := []tea.Cmd{v.refreshPage()}
		if v.detail != nil && v.detail.n.ID == msg.id {
			cmds = append(cmds, v.open(msg.id))
		}
		if msg.err != nil {
			return v, tea.Batch(append(cmds, errToast(fmt.Sprintf("replay %d", msg.id), msg.err))...)
		}
		r := msg.res
		text := fmt.Sprintf("notification %d replayed: %s %s", msg.id, r.Verify, r.Apply)
		if r.Detail != "" {
			text += " — " + r.Detail
		}
		kind := toastOK
		if r.Apply.Failed() {
			kind = toastErr
		}
		return v, tea.Batch(append(cmds, toastCmd(kind, text))...)
	case failedIDsMsg:
		if msg.err != nil {
			return v, errToast("list failed notifications", msg.err)
		}
		if len(msg.ids) == 0 {
			return v, toastCmd(toastInfo, "no failed notifications in this filter: nothing to replay")
		}
		return v, v.c.open(v.confirmReplayAll(msg.ids))
	case replayAllDoneMsg:
		cmd := v.reload()
		if msg.err != nil {
			return v, tea.Batch(cmd, errToast("replay", msg.err))
		}
		fixed, still := 0, 0
		for _, r := range msg.results {
			if r.Err != "" || r.Apply.Failed() {
				still++
			} else {
				fixed++
			}
		}
		kind := toastOK
		if still > 0 {
			kind = toastErr
		}
		return v, tea.Batch(cmd, toastCmd(kind, fmt.Sprintf("replayed %s: %d applied or settled, %d still failing",
			plural(len(msg.results), "notification", "notifications"), fixed, still)))
	case tea.KeyMsg:
		if v.filter.active {
			return v, v.filterKey(msg)
		}
		if v.detail != nil {
			return v, v.updateDetail(msg)
		}
		return v, v.updateList(msg)
	case tea.MouseMsg:
		if v.detail == nil {
			return v, v.wheel(msg)
		}
	}
	return v, nil
}

func (v *notificationsView) updateList(msg tea.KeyMsg) tea.Cmd {
	if cmd, ok := v.navigate(msg); ok {
		return cmd
	}
	k := v.c.keys
	switch {
	case key.Matches(msg, k.Enter):
		if n, ok := v.list.selected(); ok {
			return v.open(n.ID)
		}
	case key.Matches(msg, v.replayKey()):
		if n, ok := v.list.selected(); ok {
			return v.replay(n.ID)
		}
	case key.Matches(msg, v.replayAllKey()):
		return v.failedIDs()
	}
	return nil
}

func (v *notificationsView) updateDetail(msg tea.KeyMsg) tea.Cmd {
	k := v.c.keys
	switch {
	case key.Matches(msg, k.Back):
		v.detail = nil
		return nil
	case key.Matches(msg, v.replayKey()):
		return v.replay(v.detail.n.ID)
	}
	v.detail.page.update(k, msg, v.height)
	return nil
}

func (v *notificationsView) open(id int64) tea.Cmd {
	c := v.c
	return func() tea.Msg {
		n, a, err := c.svc.Notification(c.ctx, id)
		return notificationMsg{id: id, n: n, attempts: a, err: err}
	}
}

func (v *notificationsView) replay(id int64) tea.Cmd {
	c := v.c
	return c.startTask(fmt.Sprintf("replaying notification %d", id), func(int, func(tea.Msg)) tea.Msg {
		res, err := c.svc.ReplayNotification(c.ctx, id)
		return replayDoneMsg{id: id, res: res, err: err}
	})
}

// failedIDs reads the ids a bulk replay of this filter would touch, so the
// confirmation states exactly that count and the replay touches exactly
// those.
func (v *notificationsView) failedIDs() tea.Cmd {
	c, f := v.c, v.q.f
	f.Failed = true
	return func() tea.Msg {
		var ids []int64
		var before int64
		for {
			page, err := c.svc.ListNotifications(c.ctx, f, before, 1000)
			if err != nil {
				return failedIDsMsg{err: err}
			}
			for _, n := range page {
				ids = append(ids, n.ID)
			}
			if len(page) < 1000 {
				return failedIDsMsg{ids: ids}
			}
			before = page[len(page)-1].ID
		}
	}
}

func (v *notificationsView) confirmReplayAll(ids []int64) dialog {
	scope := "all notifications"
	if v.q.text != "" {
		scope = v.q.text
	}
	lines := []string{
		fmt.Sprintf("Replay %s.", plural(len(ids), "failed notification", "failed notifications")),
		"Filter: " + scope,
		"",
	}
	lines = append(lines, wrap("Each is verified again with the headers and body it arrived with (a forged one stays rejected) and applied at most once; every replay is audited.", 70)...)
	ids = slices.Clone(ids)
	c := v.c
	run := c.startTask(fmt.Sprintf("replaying %d notifications", len(ids)), func(id int, report func(tea.Msg)) tea.Msg {
		res, err := c.svc.ReplayNotifications(c.ctx, ids, func(done, total int) {
			report(replayProgress{task: id, done: done, total: total})
		})
		return replayAllDoneMsg{results: res, err: err}
	})
	return newConfirm(v.c.theme, fmt.Sprintf("Replay %d notifications?", len(ids)), lines, "", run, "replay cancelled; nothing was replayed")
}

var notificationColumns = []column{
	{title: "", width: 2},
	{title: "ID", width: 6, right: true},
	{title: "RECEIVED", width: 14},
	{title: "CH", width: 6, prio: 2},
	{title: "ORDER", width: 18, flex: true, number: true},
	{title: "EVENT", width: 8, prio: 1, whole: true},
	{title: "VERIFY", width: 10},
	{title: "APPLY", width: 13},
	{title: "TRIES", width: 5, right: true, prio: 3},
	{title: "DETAIL", width: 10, flex: true, prio: 4},
}

func (v *notificationsView) View() string {
	if v.detail != nil {
		return v.detail.page.view(v.width, v.height)
	}
	var counts []string
	if v.counted {
		counts = []string{countOf(v.total, "notification", "notifications")}
	}
	return v.view(listLook[store.Notification]{
		cols: notificationColumns, title: "all notifications", counts: counts, noun: "notifications",
		empty: "  No callbacks stored yet. `paydesk serve` receives them from the platforms.",
		row: func(n store.Notification, cells []string) rowTone {
			cells[1], cells[2], cells[3] = itoa(int(n.ID)), v.c.local(n.ReceivedAt, "01-02 15:04:05"), string(n.Channel)
			cells[4], cells[5], cells[6], cells[7], cells[8] = dash(n.OutTradeNo), dash(string(n.Event)), string(n.VerifyStatus), string(n.ApplyStatus), itoa(n.Attempts)
			cells[9] = dash(gateway.MaskBuyerIDs(cmp.Or(n.ApplyDetail, n.VerifyError)))
			if n.ApplyStatus.Failed() {
				return toneBad
			}
			return tonePlain
		},
		numbers: func(n store.Notification, widest map[string]int) {
			widen(widest, "ORDER", n.OutTradeNo)
			// REFUND_ABNORMAL and REFUND_CLOSED are told apart whole.
			widen(widest, "EVENT", string(n.Event))
		},
	})
}

// detailLines lays out one notification: outcome, headers, the payload
// (buyer ids masked) and every attempt.
func (v *notificationsView) detailLines(n store.Notification, attempts []store.Attempt) []string {
	t := v.c.theme
	var l []string
	l = append(l, t.Title.Render(fmt.Sprintf("Notification %d", n.ID))+"  "+t.Dim.Render(fmt.Sprintf("%s · received %s from %s",
		n.Channel, v.c.local(n.ReceivedAt, "2006-01-02 15:04:05"), dash(n.RemoteAddr))))
	field := func(name, value string) { l = append(l, fmt.Sprintf("  %-10s %s", name, value)) }
	verify := string(n.VerifyStatus)
	if n.VerifyError != "" {
		verify += " — " + n.VerifyError
	}
	apply := string(n.ApplyStatus)
	if n.ApplyDetail != "" {
		apply += " — " + n.ApplyDetail
	}
	mark := func(bad bool, s string) string {
		if bad {
			return "! " + s
		}
		return s
	}
	field("Verify", mark(n.VerifyStatus == store.Rejected, verify))
	if n.VerifyKey != "" {
		// Which key verified it (or the serial no key of ours has).
		field("Key", n.VerifyKey)
	}
	field("Apply", mark(n.ApplyStatus.Failed(), apply))
	field("Event", dash(string(n.Event)))
	field("Order", dash(n.OutTradeNo))
	field("Trade no", dash(n.TradeNo))
	if n.OutRequestNo != "" {
		field("Refund no", n.OutRequestNo)
	}
	if n.Amount != nil {
		field("Amount", n.Amount.Yuan())
	}
	if len(n.Header) > 0 {
		l = append(l, "", t.Title.Render("Headers"))
		names := make([]string, 0, len(n.Header))
		for name := range n.Header {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			l = append(l, "  "+name+": "+strings.Join(n.Header[name], ", "))
		}
	}
	l = append(l, "", t.Title.Render(fmt.Sprintf("Payload (%d bytes; buyer ids masked)", len(n.Body))))
	for _, s := range strings.Split(prettyPayload(n.Body), "\n") {
		l = append(l, "  "+s)
	}
	l = append(l, "", t.Title.Render(fmt.Sprintf("Attempts (%d)", len(attempts))))
	for _, a := range attempts {
		who := string(a.Kind)
		if a.Operator != "" {
			who += " by " + a.Operator
		}
		s := fmt.Sprintf("%s  %-16s %s %s", v.c.local(a.At, "01-02 15:04:05"), who, a.VerifyStatus, a.ApplyStatus)
		if a.Detail != "" {
			s += " — " + a.Detail
		}
		if a.VerifyKey != "" {
			s += " [" + a.VerifyKey + "]"
		}
		l = append(l, mark(a.ApplyStatus.Failed(), s))
	}
	return l
}

func (v *notificationsView) ShortHelp() []key.Binding {
	k := v.c.keys
	if v.detail != nil {
		return []key.Binding{k.Back, v.replayKey(), k.Help}
	}
	return []key.Binding{k.Filter, k.Enter, v.replayKey(), v.replayAllKey(), k.Help}
}

func (v *notificationsView) FullHelp() [][]key.Binding {
	k := v.c.keys
	return [][]key.Binding{k.navHelp(), {k.Filter, k.Enter, k.Back, v.replayKey(), v.replayAllKey()}, k.globalHelp()}
}
