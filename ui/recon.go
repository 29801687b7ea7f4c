package ui

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/recon"
	"github.com/paydesk/paydesk/store"
)

// reconJumpMsg is `:recon CHANNEL DAY`.
type reconJumpMsg struct {
	channel gateway.Channel
	day     time.Time
}

func parseReconCommand(args []string, c *programContext) (reconJumpMsg, error) {
	if len(args) == 0 || len(args) > 2 {
		return reconJumpMsg{}, fmt.Errorf("usage: :recon alipay|wechat [YYYY-MM-DD]")
	}
	ch, err := gateway.ParseChannel(args[0])
	if err != nil {
		return reconJumpMsg{}, err
	}
	day := yesterday(c)
	if len(args) == 2 {
		if day, err = time.ParseInLocation(time.DateOnly, args[1], c.zone); err != nil {
			return reconJumpMsg{}, fmt.Errorf(":recon %s %s: want a date like 2026-11-22", args[0], args[1])
		}
	}
	return reconJumpMsg{channel: ch, day: day}, nil
}

// yesterday is the default business day: the day before today in the
// platform zone, the newest day whose bill exists.
func yesterday(c *programContext) time.Time {
	n := c.now.In(c.zone)
	return time.Date(n.Year(), n.Month(), n.Day()-1, 0, 0, 0, 0, c.zone)
}

// runCategories are the categories of a run in report order: recon's
// list (critical first, MATCHED last), then any the run counts that this
// build of recon does not list, so a category recon adds shows as a card
// with no change here.
func runCategories(r *store.Run) []recon.Category {
	out := slices.Clone(recon.Categories)
	if r != nil {
		out = slices.Clone(recon.CategoriesOf(recon.RunKind(r.Kind)))
	}
	var extra []recon.Category
	if r != nil {
		for name := range r.Counts {
			if c := recon.Category(name); !slices.Contains(out, c) {
				extra = append(extra, c)
			}
		}
	}
	slices.Sort(extra)
	return append(out, extra...)
}

// cardSeverity is how a category's card reads: the worst severity among
// its findings (a finding can be raised above its category's default),
// else the category's own; MATCHED reads as fine.
func cardSeverity(c recon.Category, worst string) string {
	switch {
	case worst != "":
		return worst
	case c.IsMatch():
		return "ok"
	}
	return string(c.Severity())
}

var reconStages = []string{ops.StageDownload, ops.StageParse, ops.StageLoad, ops.StageMatch, ops.StageSave}

// reconView picks a channel and a day, runs the reconciliation (bill from
// the platform or from a file) with its stages' progress, then shows the
// run: a card per category and the findings, on which the usual actions
// work (query, replay, refund a duplicate, resolve or ignore with a note).
type reconView struct {
	c             *programContext
	width, height int

	channel  gateway.Channel
	day      time.Time
	billFile string
	// kind is the bill reconciled: store.BillTrade (the trade bill against
	// the orders) or store.BillFunds (the account's movements against the
	// day's bookings); t switches, and otherBill keeps the bill file given
	// for the other kind.
	kind      string
	otherBill string

	running  bool
	stage    string
	progress map[string]ops.ReconProgress
	runErr   string

	run      *store.Run
	findings []store.Finding
	loading  bool
	lookup   int // generation of the (channel, day) lookup

	// detail is the open finding (enter), nil on the list.
	detail *findingDetailView

	// changes marks each finding against the run before (new, still open,
	// resolved); changed sums them up with the gone ones ("3 new · 2 gone ·
	// 5 still open"), empty for a day's first run.
	changes map[int64]ops.Change
	changed string
	// marked are the findings marked with space, for D and I on all of them.
	marked map[int64]bool

	// exported is the last workbook written, shown under the run.
	exported string

	category string // "" all
	filter   filterBox
	text     string // client-side filter text: category prefixes, open, a number
	shown    []int  // indexes into findings after the filters
	sel, top int
}

type reconProgressMsg struct {
	task int
	p    ops.ReconProgress
}

func (m reconProgressMsg) progress() (int, int, int) {
	if m.p.Total <= 0 {
		return m.task, 0, 0
	}
	return m.task, int(m.p.Done), int(m.p.Total)
}

type reconRunDoneMsg struct {
	run store.Run
	err error
}

// reconRunMsg is the run of a (channel, day) and its findings, with how
// they changed since the run before.
type reconRunMsg struct {
	gen      int
	run      store.Run
	found    bool
	findings []store.Finding
	diff     ops.RunDiff
	err      error
}

// findingsResolvedMsg is the outcome of one decision about marked findings.
type findingsResolvedMsg struct {
	fs  []store.Finding
	err error
}

func (findingsResolvedMsg) target() viewID { return reconTab }

type findingResolvedMsg struct {
	f   store.Finding
	err error
}

type reconActionMsg struct {
	what string
	text string
	kind toastKind
	err  error
}

func (reconProgressMsg) target() viewID   { return reconTab }
func (reconRunDoneMsg) target() viewID    { return reconTab }
func (reconRunMsg) target() viewID        { return reconTab }
func (findingResolvedMsg) target() viewID { return reconTab }
func (reconActionMsg) target() viewID     { return reconTab }

func newReconView(c *programContext) *reconView {
	v := &reconView{c: c, day: yesterday(c), channel: gateway.Alipay, kind: store.BillTrade, progress: map[string]ops.ReconProgress{},
		marked: map[int64]bool{}}
	if ch := c.svc.Channels(); len(ch) > 0 {
		v.channel = ch[0]
	}
	v.filter = newFilterBox(v.c.theme, "dup missing open PD2026…")
	return v
}

func (v *reconView) Init() tea.Cmd { return v.load() }

func (v *reconView) SetSize(w, h int) {
	v.width, v.height = w, h
	v.filter.input.Width = max(10, w-12)
	if v.detail != nil {
		v.detail.setSize(w, h)
	}
}

func (v *reconView) Focused() bool { return v.filter.active }

func (v *reconView) jump(j reconJumpMsg) tea.Cmd {
	v.channel, v.day, v.billFile, v.otherBill, v.detail = j.channel, j.day, "", "", nil
	return v.load()
}

// load finds the current run of the chosen (channel, day), if any, and
// its findings, showing "loading…" meanwhile (a new channel or day).
func (v *reconView) load() tea.Cmd {
	v.loading = true
	return v.read()
}

// read reads the run of (channel, day) and its findings: one lookup on the
// runs of the day, and the run's findings.
func (v *reconView) read() tea.Cmd {
	v.lookup++
	c, ch, day, kind, gen := v.c, v.channel, v.day.Format(store.DayFormat), v.kind, v.lookup
	return func() tea.Msg {
		run, found, err := c.svc.CurrentReconOf(c.ctx, ch, day, kind)
		if err != nil || !found {
			return reconRunMsg{gen: gen, err: err}
		}
		// The run's findings, each with its change against the run before.
		d, err := c.svc.DiffRuns(c.ctx, 0, run.ID)
		if err != nil {
			return reconRunMsg{gen: gen, err: err}
		}
		fs := make([]store.Finding, 0, len(d.Changes))
		for _, ch := range d.Changes {
			if ch.Change != ops.ChangeGone {
				fs = append(fs, ch.Finding)
			}
		}
		return reconRunMsg{gen: gen, run: run, found: true, findings: fs, diff: d}
	}
}

// watches: a run (from this console, the CLI, cron or a colleague) is a
// new row; a resolution is audited. An open finding also shows its
// order's callbacks, queries and refunds.
func (v *reconView) watches(old, now ops.Changes) bool {
	if v.detail != nil {
		return old != now
	}
	return old.Runs != now.Runs || old.Audit != now.Audit
}

// reloadDetail reads the open finding again after an action on it.
func (v *reconView) reloadDetail() tea.Cmd {
	if v.detail == nil {
		return nil
	}
	return v.detail.reload()
}

// reloadShown reads the day's run again without blanking the screen, and
// the open finding. A run in progress here reloads when it ends.
func (v *reconView) reloadShown() tea.Cmd {
	if v.running {
		return nil
	}
	if v.detail != nil {
		return tea.Batch(v.read(), v.detail.reload())
	}
	return v.read()
}

func (v *reconView) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case reconRunMsg:
		if msg.gen != v.lookup {
			return v, nil
		}
		v.loading = false
		if msg.err != nil {
			return v, errToast("reconciliation", msg.err)
		}
		same := v.run != nil && msg.found && v.run.ID == msg.run.ID
		v.run = nil
		v.changes, v.changed = nil, ""
		if msg.found {
			r := msg.run
			v.run = &r
			v.changes = msg.diff.ByID()
			if msg.diff.From.ID != 0 {
				v.changed = fmt.Sprintf("since run %d: %s", msg.diff.From.ID, msg.diff.Summary())
			}
		}
		if !same {
			clear(v.marked) // marks belong to the findings of one run
		}
		v.setFindings(msg.findings, same)
	case reconProgressMsg:
		v.stage = msg.p.Stage
		v.progress[msg.p.Stage] = msg.p
	case reconRunDoneMsg:
		v.running = false
		if msg.err != nil {
			v.runErr = msg.err.Error()
			return v, errToast("reconcile "+string(v.channel)+" "+v.day.Format(time.DateOnly), msg.err)
		}
		v.runErr = ""
		r := msg.run
		return v, tea.Batch(toastCmd(toastOK, fmt.Sprintf("run %d: %s lines, %s orders, %s",
			r.ID, group(r.Lines), group(r.Orders), openSummary(r))), v.load())
	case findingResolvedMsg:
		if msg.err != nil {
			return v, errToast("resolve", msg.err)
		}
		for i := range v.findings {
			if v.findings[i].ID == msg.f.ID {
				v.findings[i] = msg.f
			}
		}
		v.applyFilter()
		return v, tea.Batch(v.reloadDetail(), toastCmd(toastOK, gateway.MaskBuyerIDs(fmt.Sprintf("finding %d %s: %s", msg.f.ID, msg.f.Resolution, msg.f.Note))))
	case findingsResolvedMsg:
		if msg.err != nil {
			return v, errToast("resolve marked findings", msg.err)
		}
		byID := map[int64]store.Finding{}
		for _, f := range msg.fs {
			byID[f.ID] = f
		}
		for i := range v.findings {
			if f, ok := byID[v.findings[i].ID]; ok {
				v.findings[i] = f
			}
		}
		clear(v.marked)
		v.applyFilter()
		f := msg.fs[0]
		return v, toastCmd(toastOK, gateway.MaskBuyerIDs(fmt.Sprintf("%s %s: %s", plural(len(msg.fs), "finding", "findings"), f.Resolution, f.Note)))
	case reconActionMsg:
		if msg.err != nil {
			return v, tea.Batch(v.reloadDetail(), errToast(msg.what, msg.err))
		}
		return v, tea.Batch(v.reloadDetail(), toastCmd(msg.kind, msg.text))
	case refundDoneMsg:
		return v, tea.Batch(v.reloadDetail(), refundToast(msg))
	case billFileMsg:
		v.billFile = string(msg)
	case exportDoneMsg:
		return v, v.exportDone(msg)
	case findingDetailMsg:
		if msg.err != nil {
			return v, errToast(fmt.Sprintf("finding %d", msg.id), msg.err)
		}
		if d := v.detail; d != nil && d.id == msg.id {
			d.set(msg.d)
		}
	case billLineMsg:
		if d := v.detail; d != nil && d.id == msg.id {
			d.setLine(msg)
		}
	case tea.KeyMsg:
		if v.filter.active {
			return v, v.filter.update(msg, func(s string) (tea.Cmd, error) {
				v.text = strings.TrimSpace(s)
				v.applyFilter()
				return nil, nil
			})
		}
		if v.detail != nil {
			return v, v.detailKey(msg)
		}
		return v, v.key(msg)
	case tea.MouseMsg:
		if v.detail != nil {
			return v, nil
		}
		switch msg.Button {
		case tea.MouseButtonWheelDown:
			v.move(3)
		case tea.MouseButtonWheelUp:
			v.move(-3)
		}
	}
	return v, nil
}

func openSummary(r store.Run) string {
	var parts []string
	for _, cat := range runCategories(&r) {
		if t := r.Counts[string(cat)]; t.Count > 0 && !cat.IsMatch() {
			parts = append(parts, fmt.Sprintf("%s %d", cat, t.Count))
		}
	}
	if len(parts) == 0 {
		return "everything matched"
	}
	return strings.Join(parts, ", ")
}

// setFindings shows a run's findings. Read again for the same run, the
// selection stays on its finding at its place on the screen; a new run
// starts at the top.
func (v *reconView) setFindings(fs []store.Finding, sameRun bool) {
	keep, screenRow := int64(0), v.sel-v.top
	if f, ok := v.selected(); ok && sameRun {
		keep = f.ID
	}
	v.findings = fs
	v.sel, v.top = 0, 0
	v.applyFilter()
	if keep == 0 {
		return
	}
	for i, j := range v.shown {
		if v.findings[j].ID == keep {
			v.sel, v.top = i, max(i-screenRow, 0)
			v.top = scrollTop(v.sel, v.top, v.tableRows(), len(v.shown))
		}
	}
}

// applyFilter recomputes which findings show: the category picked with f,
// and the `/` text (category prefixes, open/resolved/ignored, a number).
func (v *reconView) applyFilter() {
	v.shown = v.shown[:0]
	terms := strings.Fields(strings.ToLower(v.text))
	for i, f := range v.findings {
		if v.category != "" && f.Category != v.category {
			continue
		}
		ok := true
		for _, t := range terms {
			switch t {
			case "open":
				ok = ok && f.Resolution == ""
			case "resolved", "ignored":
				ok = ok && f.Resolution == t
			default:
				ok = ok && (strings.HasPrefix(strings.ToLower(f.Category), t) || strings.Contains(strings.ToLower(f.Category), t) ||
					strings.HasPrefix(strings.ToLower(f.OutTradeNo), t) || strings.HasPrefix(strings.ToLower(f.TradeNo), t))
			}
		}
		if ok {
			v.shown = append(v.shown, i)
		}
	}
	v.sel = min(v.sel, max(len(v.shown)-1, 0))
	v.top = scrollTop(v.sel, v.top, v.tableRows(), len(v.shown))
}

func (v *reconView) selected() (store.Finding, bool) {
	if v.sel < 0 || v.sel >= len(v.shown) {
		return store.Finding{}, false
	}
	return v.findings[v.shown[v.sel]], true
}

func (v *reconView) move(d int) {
	v.sel = min(max(v.sel+d, 0), max(len(v.shown)-1, 0))
	v.top = scrollTop(v.sel, v.top, v.tableRows(), len(v.shown))
}

func (v *reconView) channels() []gateway.Channel { return gateway.Channels }

// findingKeys are the keys that act on a finding, disabled where the role
// may not use them.
type findingKeys struct{ query, replay, refund, resolve, ignore, open key.Binding }

func (v *reconView) findingKeys() findingKeys {
	k := v.c.keys
	return findingKeys{only(k.Query, v.c.can(ops.ActQuery)), only(k.Replay, v.c.can(ops.ActReplay)), only(k.Refund, v.c.can(ops.ActRefund)),
		only(k.Resolve, v.c.can(ops.ActResolve)), only(k.Ignore, v.c.can(ops.ActResolve)), k.OpenOrder}
}

func (v *reconView) runKey() key.Binding { return only(v.c.keys.Run, v.c.can(ops.ActReconcile)) }

// Marks are for deciding about several findings at once: only a role that
// may resolve has them.
func (v *reconView) markKey() key.Binding { return only(v.c.keys.Mark, v.c.can(ops.ActResolve)) }
func (v *reconView) clearMarkKey() key.Binding {
	return only(v.c.keys.ClearMark, v.c.can(ops.ActResolve))
}

// funds reports whether the view shows fund-flow runs.
func (v *reconView) funds() bool { return v.kind == store.BillFunds }

// act runs the finding key in msg on f; ok is false for any other key.
func (v *reconView) act(msg tea.KeyMsg, f store.Finding) (cmd tea.Cmd, ok bool) {
	fk := v.findingKeys()
	switch {
	case key.Matches(msg, fk.query):
		return v.query(f), true
	case key.Matches(msg, fk.replay):
		return v.replay(f), true
	case key.Matches(msg, fk.refund):
		return v.refund(f), true
	case key.Matches(msg, fk.resolve):
		if len(v.marked) > 0 && v.detail == nil {
			return v.resolveMarked("resolved"), true
		}
		return v.resolve(f, "resolved"), true
	case key.Matches(msg, fk.ignore):
		if len(v.marked) > 0 && v.detail == nil {
			return v.resolveMarked("ignored"), true
		}
		return v.resolve(f, "ignored"), true
	case key.Matches(msg, fk.open):
		if f.OutTradeNo == "" {
			return toastCmd(toastInfo, "this finding has no local order"), true
		}
		return func() tea.Msg { return jumpMsg{to: ordersTab, order: f.OutTradeNo} }, true
	}
	return nil, false
}

func (v *reconView) key(msg tea.KeyMsg) tea.Cmd {
	k := v.c.keys
	switch {
	case key.Matches(msg, k.Channel):
		chs := v.channels()
		i := slices.Index(chs, v.channel)
		v.channel = chs[(i+1)%len(chs)]
		return v.load()
	case key.Matches(msg, k.Kind):
		v.kind = map[string]string{store.BillTrade: store.BillFunds, store.BillFunds: store.BillTrade}[v.kind]
		v.category, v.billFile, v.otherBill = "", v.otherBill, v.billFile
		return v.load()
	case key.Matches(msg, v.markKey()):
		if f, ok := v.selected(); ok {
			if v.marked[f.ID] {
				delete(v.marked, f.ID)
			} else {
				v.marked[f.ID] = true
			}
			v.move(1)
		}
	case key.Matches(msg, v.clearMarkKey()):
		clear(v.marked)
	case key.Matches(msg, k.PrevDay):
		v.day = v.day.AddDate(0, 0, -1)
		return v.load()
	case key.Matches(msg, k.NextDay):
		if next := v.day.AddDate(0, 0, 1); !next.After(yesterday(v.c)) {
			v.day = next
			return v.load()
		}
		return toastCmd(toastInfo, "a day's bill exists only once the day is over: yesterday is the newest")
	case key.Matches(msg, k.BillFile):
		return v.c.open(newPrompt(v.c.theme, "Reconcile from a bill file",
			[]string{fmt.Sprintf("The %s bill of %s, as downloaded from the merchant platform.", v.channel, v.day.Format(time.DateOnly)),
				"Leave empty to download it from the platform."},
			"/path/to/bill.csv", "", func(s string) tea.Cmd {
				return func() tea.Msg { return billFileMsg(s) }
			}))
	case key.Matches(msg, v.runKey()):
		return v.start()
	case key.Matches(msg, k.Enter):
		return v.onFinding(v.openFinding)
	case key.Matches(msg, k.Down):
		v.move(1)
	case key.Matches(msg, k.Up):
		v.move(-1)
	case key.Matches(msg, k.PageDown):
		v.move(v.tableRows())
	case key.Matches(msg, k.PageUp):
		v.move(-v.tableRows())
	case key.Matches(msg, k.Top):
		v.move(-len(v.shown))
	case key.Matches(msg, k.Bottom):
		v.move(len(v.shown))
	case key.Matches(msg, k.Category):
		v.cycleCategory()
	case key.Matches(msg, only(k.Export, v.c.can(ops.ActExport))):
		return v.export()
	case key.Matches(msg, k.Filter):
		v.filter.open(v.text)
	case key.Matches(msg, k.Back):
		if v.category != "" || v.text != "" {
			v.category, v.text = "", ""
			v.applyFilter()
		}
	default:
		if f, ok := v.selected(); ok {
			cmd, _ := v.act(msg, f)
			return cmd
		}
		fk := v.findingKeys()
		if key.Matches(msg, fk.query, fk.replay, fk.refund, fk.resolve, fk.ignore, fk.open) {
			return toastCmd(toastInfo, "no finding selected")
		}
	}
	return nil
}

// openFinding opens a finding's page: its record and order at once, its
// bill line when the kept bill has been read up to it.
func (v *reconView) openFinding(f store.Finding) tea.Cmd {
	v.detail = newFindingDetailView(v.c, f)
	v.detail.setSize(v.width, v.height)
	return tea.Batch(v.detail.reload(), v.detail.readLine())
}

// detailKey handles a key on an open finding: esc back, the finding's
// actions, scrolling.
func (v *reconView) detailKey(msg tea.KeyMsg) tea.Cmd {
	if key.Matches(msg, v.c.keys.Back) {
		v.detail = nil
		return nil
	}
	if cmd, ok := v.act(msg, v.detail.finding()); ok {
		return cmd
	}
	v.detail.page.update(v.c.keys, msg, v.height)
	return nil
}

// billFileMsg sets the bill file (empty: download).
type billFileMsg string

func (billFileMsg) target() viewID { return reconTab }

func (v *reconView) cycleCategory() {
	var present []string
	for _, cat := range runCategories(v.run) {
		for _, f := range v.findings {
			if f.Category == string(cat) {
				present = append(present, string(cat))
				break
			}
		}
	}
	if len(present) == 0 {
		v.category = ""
	} else if i := slices.Index(present, v.category); i < 0 {
		v.category = present[0]
	} else if i == len(present)-1 {
		v.category = ""
	} else {
		v.category = present[i+1]
	}
	v.sel, v.top = 0, 0
	v.applyFilter()
}

func (v *reconView) onFinding(f func(store.Finding) tea.Cmd) tea.Cmd {
	fd, ok := v.selected()
	if !ok {
		return nil
	}
	return f(fd)
}

// start runs the reconciliation in a task, reporting each stage.
func (v *reconView) start() tea.Cmd {
	if v.running {
		return toastCmd(toastInfo, "a reconciliation is already running")
	}
	v.running, v.runErr, v.stage = true, "", ""
	clear(v.progress)
	c := v.c
	req := ops.ReconRequest{Channel: v.channel, Day: v.day, BillFile: v.billFile}
	label := fmt.Sprintf("reconciling %s %s", v.channel, v.day.Format(time.DateOnly))
	reconcile := c.svc.RunRecon
	if v.funds() {
		label, reconcile = fmt.Sprintf("reconciling the %s account's movements of %s", v.channel, v.day.Format(time.DateOnly)), c.svc.RunFundRecon
	}
	return c.startTask(label, func(id int, report func(tea.Msg)) tea.Msg {
		run, err := reconcile(c.ctx, req, func(p ops.ReconProgress) { report(reconProgressMsg{task: id, p: p}) })
		return reconRunDoneMsg{run: run, err: err}
	})
}

func (v *reconView) query(f store.Finding) tea.Cmd {
	if f.OutTradeNo == "" {
		return toastCmd(toastInfo, "this finding has no local order to query")
	}
	c, no := v.c, f.OutTradeNo
	return c.startTask("querying "+no, func(int, func(tea.Msg)) tea.Msg {
		r, err := c.svc.QueryTrade(c.ctx, no)
		kind := toastOK
		if r.Disagrees {
			kind = toastErr
		}
		return reconActionMsg{what: "query " + no, text: fmt.Sprintf("%s: %s", no, r.Note), kind: kind, err: err}
	})
}

// replay replays the newest callback stored for the finding's order.
func (v *reconView) replay(f store.Finding) tea.Cmd {
	if f.OutTradeNo == "" {
		return toastCmd(toastInfo, "this finding has no local order, so no callback to replay")
	}
	c, no := v.c, f.OutTradeNo
	return c.startTask("replaying the callback of "+no, func(int, func(tea.Msg)) tea.Msg {
		ns, err := c.svc.ListNotifications(c.ctx, store.NotificationFilter{OutTradeNo: no}, 0, 1)
		if err != nil {
			return reconActionMsg{what: "replay", err: err}
		}
		if len(ns) == 0 {
			return reconActionMsg{text: "no callback stored for " + no + ": nothing to replay", kind: toastInfo}
		}
		r, err := c.svc.ReplayNotification(c.ctx, ns[0].ID)
		kind := toastOK
		if r.Apply.Failed() {
			kind = toastErr
		}
		return reconActionMsg{what: "replay", text: fmt.Sprintf("notification %d replayed: %s %s %s", ns[0].ID, r.Verify, r.Apply, r.Detail), kind: kind, err: err}
	})
}

// refund is offered on a duplicate payment: it refunds the duplicate's own
// trade (the finding's channel and trade number), never the order's
// payment. The form opens on what that payment can still refund.
func (v *reconView) refund(f store.Finding) tea.Cmd {
	if recon.Category(f.Category) != recon.DuplicatePayment {
		return toastCmd(toastInfo, "refunds from a finding are for duplicate payments; refund other orders from Orders")
	}
	c, ch, tradeNo := v.c, f.Channel, f.TradeNo
	return func() tea.Msg {
		// Planned with no amount yet: ops refuses the amount but returns
		// the plan it read, with the payment and its ceiling.
		p, err := c.svc.PlanDuplicateRefund(c.ctx, ch, tradeNo, 0, "")
		switch {
		case errors.Is(err, store.ErrNoDuplicate):
			return reconActionMsg{text: fmt.Sprintf("paydesk has no record of the second payment %s %s (the bill alone has it), so it cannot refund it from here", ch, tradeNo), kind: toastErr}
		case err != nil && (p.Duplicate == nil || !errors.Is(err, ops.ErrRefundInput)):
			return reconActionMsg{what: "refund of duplicate payment " + tradeNo, err: err}
		case p.Refundable <= 0:
			return reconActionMsg{text: fmt.Sprintf("the duplicate payment %s of %s has nothing left to refund (refunded %s, pending %s)",
				tradeNo, p.Order.OutTradeNo, p.Ceiling.Succeeded.Yuan(), p.Ceiling.Pending.Yuan()), kind: toastInfo}
		}
		return openDialogMsg{newDuplicateRefundForm(c, reconTab, p)}
	}
}

func (v *reconView) resolve(f store.Finding, resolution string) tea.Cmd {
	c, id := v.c, f.ID
	verb := map[string]string{"resolved": "Resolve", "ignored": "Ignore"}[resolution]
	lines := []string{gateway.MaskBuyerIDs(fmt.Sprintf("%s %s %s", f.Category, dash(f.OutTradeNo), f.Detail))}
	if f.Resolution != "" {
		lines = append(lines, gateway.MaskBuyerIDs(fmt.Sprintf("Now %s by %s: %s", f.Resolution, f.Resolver, f.Note)))
	}
	return v.c.open(newPrompt(v.c.theme, fmt.Sprintf("%s finding %d", verb, id), lines, "why (kept in the audit log)",
		"a note is required: say why, for whoever reads the audit log", func(note string) tea.Cmd {
			return func() tea.Msg {
				f, err := c.svc.ResolveFinding(c.ctx, id, resolution, note)
				return findingResolvedMsg{f: f, err: err}
			}
		}))
}

// resolveMarked decides about every marked finding with one note: the
// prompt says how many and which, and all are recorded together or none.
func (v *reconView) resolveMarked(resolution string) tea.Cmd {
	c := v.c
	var ids []int64
	var lines []string
	for _, f := range v.findings {
		if !v.marked[f.ID] {
			continue
		}
		ids = append(ids, f.ID)
		if len(lines) < 5 {
			lines = append(lines, gateway.MaskBuyerIDs(fmt.Sprintf("%d %s %s", f.ID, f.Category, dash(cmp.Or(f.OutTradeNo, f.FlowNo)))))
		}
	}
	if len(ids) > len(lines) {
		lines = append(lines, fmt.Sprintf("… and %d more", len(ids)-len(lines)))
	}
	verb := map[string]string{"resolved": "Resolve", "ignored": "Ignore"}[resolution]
	return v.c.open(newPrompt(v.c.theme, fmt.Sprintf("%s %s, with one note", verb, plural(len(ids), "marked finding", "marked findings")), lines,
		"why (kept in the audit log, for each)", "a note is required: say why, for whoever reads the audit log", func(note string) tea.Cmd {
			return func() tea.Msg {
				fs, err := c.svc.ResolveFindings(c.ctx, ids, resolution, note)
				return findingsResolvedMsg{fs: fs, err: err}
			}
		}))
}

// Layout: the picker line, the run line, the stages or cards, the
// findings table; or the open finding.
func (v *reconView) View() string {
	if v.detail != nil {
		return v.detail.View()
	}
	t := v.c.theme
	var top []string
	src := "download from the platform"
	if v.billFile != "" {
		src = "file " + v.billFile
	}
	kind := "trades"
	if v.funds() {
		kind = "funds: account movements"
	}
	top = append(top, truncateLines(fmt.Sprintf("%s %s   %s %s   %s %s   %s %s",
		t.Key.Render("channel"), "["+string(v.channel)+"]", t.Key.Render("day"), "["+v.day.Format(time.DateOnly)+"]",
		t.Key.Render("reconcile"), "["+kind+"]", t.Key.Render("bill"), src), v.width))
	switch {
	case v.running || v.runErr != "":
		top = append(top, v.stagesView()...)
	case v.loading:
		top = append(top, t.Dim.Render("loading…"))
	case v.run == nil:
		hint := "No run for this day yet."
		if v.funds() {
			hint = "No fund run for this day yet: it matches the account's movements against the day's payments, refunds and fees."
		}
		if v.c.can(ops.ActReconcile) {
			hint += " Press N to reconcile (c channel, h/l day, t trades/funds, b bill file)."
		}
		top = append(top, hint)
	default:
		top = append(top, v.runLine())
		if v.changed != "" {
			top = append(top, truncateLines(t.Dim.Render(v.changed), v.width))
		}
		top = append(top, v.cards())
	}
	head := strings.Join(top, "\n")
	if v.running || v.runErr != "" || v.run == nil {
		return padLines(head, v.height)
	}
	var b strings.Builder
	b.WriteString(head)
	b.WriteByte('\n')
	b.WriteString(v.findingsView(v.height - lipgloss.Height(head)))
	return padLines(b.String(), v.height)
}

func (v *reconView) runLine() string {
	r := v.run
	res := ""
	if n := r.Resolved["open"]; n > 0 {
		res = fmt.Sprintf(" · %d open", n)
	}
	if n := r.Resolved["resolved"] + r.Resolved["ignored"]; n > 0 {
		res += fmt.Sprintf(" · %d settled", n)
	}
	fees := "fees " + r.Fees.Yuan()
	if r.ExpectedFees != nil {
		fees += " (expected " + r.ExpectedFees.Yuan() + ")"
	}
	line := fmt.Sprintf("run %d by %s at %s · %s bill lines · %s orders · %s · net %s%s",
		r.ID, r.Operator, v.c.local(r.FinishedAt, "01-02 15:04"), group(r.Lines), group(r.Orders), fees, r.Net.Yuan(), res)
	if r.Kind == store.BillFunds {
		line = fmt.Sprintf("fund run %d by %s at %s · %s movements · net %s · withdrawn %s · %s%s",
			r.ID, r.Operator, v.c.local(r.FinishedAt, "01-02 15:04"), group(r.Lines), r.Net.Yuan(),
			(-r.Counts[string(recon.Withdrawal)].Amount).Yuan(), fees, res)
	}
	if v.exported != "" {
		line += " · exported to " + v.exported
	}
	return truncateLines(v.c.theme.Dim.Render(line), v.width)
}

// stagesView lists the five stages with a marker each: done, running or
// waiting (text markers, so NO_COLOR shows them).
func (v *reconView) stagesView() []string {
	t := v.c.theme
	var out []string
	cur := slices.Index(reconStages, v.stage)
	for i, s := range reconStages {
		p, seen := v.progress[s]
		mark, style := "  ", t.Dim
		switch {
		case v.runErr != "" && i == max(cur, 0):
			mark, style = "! ", t.Bad
		case i < cur || (seen && p.Total > 0 && p.Done >= p.Total && i <= cur):
			mark, style = "✓ ", t.Good
		case i == cur && v.running:
			mark, style = v.c.spin+" ", t.Info
		}
		line := fmt.Sprintf("%s%-9s", mark, s)
		if seen {
			if p.Done > 0 || p.Total > 0 {
				unit := map[string]string{ops.StageDownload: "bytes", ops.StageParse: "lines", ops.StageLoad: "orders", ops.StageMatch: "lines"}[s]
				if v.funds() && (s == ops.StageParse || s == ops.StageMatch) {
					unit = "movements"
				}
				if p.Total > 0 {
					line += fmt.Sprintf(" %s/%s %s", group(int(p.Done)), group(int(p.Total)), unit)
				} else {
					line += fmt.Sprintf(" %s %s", group(int(p.Done)), unit)
				}
			}
			if p.Message != "" {
				line += "  " + p.Message
			}
		}
		out = append(out, truncateLines(style.Render(line), v.width))
	}
	if v.runErr != "" {
		out = append(out, "", t.Bad.Render("error: ")+v.runErr, t.Dim.Render("Nothing was saved. Fix the cause and press N to run again."))
		for i := range out[len(out)-2:] {
			out[len(out)-2+i] = truncateLines(out[len(out)-2+i], v.width)
		}
	}
	return out
}

// cards draws a box per category present (MATCHED always), coloured by the
// worst severity among its findings and labelled with it.
func (v *reconView) cards() string {
	t := v.c.theme
	worst := map[string]string{}
	rank := map[string]int{"critical": 3, "warning": 2, "info": 1}
	for _, f := range v.findings {
		if rank[f.Severity] > rank[worst[f.Category]] {
			worst[f.Category] = f.Severity
		}
	}
	var boxes []string
	w := 22 // the longest name with its severity mark, and the border
	for _, cat := range runCategories(v.run) {
		tot, ok := v.run.Counts[string(cat)]
		if (!ok || tot.Count == 0) && !cat.IsMatch() {
			continue
		}
		sev := cardSeverity(cat, worst[string(cat)])
		mark := map[string]string{"critical": "!! ", "warning": "! ", "info": "i ", "ok": "✓ "}[sev]
		sel := ""
		if v.category == string(cat) {
			sel = ">"
		}
		body := fit(sel+mark+string(cat), w-2, false) + "\n" + fit(fmt.Sprintf("%d · %s", tot.Count, tot.Amount.Yuan()), w-2, false)
		boxes = append(boxes, t.Card.BorderForeground(t.severityStyle(sev).GetForeground()).Foreground(t.severityStyle(sev).GetForeground()).
			Padding(0).Width(w-2).Render(body))
	}
	per := max(1, v.width/w)
	var rows []string
	for i := 0; i < len(boxes); i += per {
		rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, boxes[i:min(i+per, len(boxes))]...))
	}
	return strings.Join(rows, "\n")
}

var findingColumns = []column{
	{title: "", width: 5},
	{title: "CATEGORY", width: 17},
	{title: "ORDER", width: 18, number: true},
	{title: "LOCAL", width: 11, right: true},
	{title: "PLATFORM", width: 11, right: true, prio: 2},
	{title: "STATE", width: 9, prio: 3},
	{title: "DETAIL", width: 12, flex: true, prio: 1},
}

// tableRows is how many findings fit under the cards; the cards' height
// depends on the run, so this is an estimate used for paging.
func (v *reconView) tableRows() int { return max(1, v.height-12) }

func (v *reconView) findingsView(h int) string {
	t := v.c.theme
	var b strings.Builder
	if v.filter.active {
		b.WriteString(v.filter.view(v.c, v.width))
	} else {
		parts := []string{fmt.Sprintf("%s of %s", group(len(v.shown)), plural(len(v.findings), "finding", "findings"))}
		if n := len(v.marked); n > 0 {
			parts = append(parts, fmt.Sprintf("%d marked: D/I decides for all", n))
		}
		if v.category != "" {
			parts = append(parts, "category "+v.category)
		}
		if v.text != "" {
			parts = append(parts, "filter: "+v.text)
		}
		b.WriteString(truncateLines(t.Dim.Render(strings.Join(parts, " · ")), v.width))
	}
	b.WriteByte('\n')
	widest := map[string]int{}
	if v.width >= wideLayout {
		for _, i := range v.shown {
			widen(widest, "ORDER", cmp.Or(v.findings[i].OutTradeNo, v.findings[i].TradeNo, v.findings[i].FlowNo))
		}
	}
	cols := fitNumbers(findingColumns, v.width, widest)
	b.WriteString(v.filter.headerOrError(v.c, cols, v.width))
	rows := max(h-2, 0)
	// The selected finding's full detail takes the last two lines: the
	// table cuts it, and it is what explains the finding.
	detailLines := 0
	if rows >= 6 && len(v.shown) > 0 {
		detailLines = 2
		rows -= detailLines
	}
	if len(v.shown) == 0 {
		if rows > 0 {
			b.WriteString("\n  ")
			if len(v.findings) == 0 {
				b.WriteString("No findings: every line and order matched.")
			} else {
				b.WriteString("No findings match. f cycles categories, esc clears.")
			}
		}
		return b.String()
	}
	v.top = scrollTop(v.sel, v.top, rows, len(v.shown))
	end := min(v.top+rows, len(v.shown))
	cells := make([]string, len(findingColumns))
	var line strings.Builder
	for i := v.top; i < end; i++ {
		f := v.findings[v.shown[i]]
		// Text marks, readable under NO_COLOR: selection, marked, severity,
		// resolution, and the change since the run before.
		mark := []string{" ", " ", " ", " ", v.changes[f.ID].Mark()}
		if i == v.sel {
			mark[0] = ">"
		}
		if v.marked[f.ID] {
			mark[1] = "*"
		}
		switch f.Severity {
		case "critical", "warning":
			mark[2] = "!"
		}
		switch f.Resolution {
		case "resolved":
			mark[3] = "R"
		case "ignored":
			mark[3] = "I"
		}
		no := cmp.Or(f.OutTradeNo, f.TradeNo, f.FlowNo)
		state := f.LocalStatus
		if f.PlatformStatus != "" {
			state = dash(state) + "/" + f.PlatformStatus
		}
		cells[0], cells[1], cells[2], cells[3] = strings.Join(mark, ""), f.Category, dash(no), f.LocalAmount.Yuan()
		cells[4], cells[5], cells[6] = f.PlatformAmount.Yuan(), dash(state), dash(gateway.MaskBuyerIDs(f.Detail))
		line.Reset()
		formatRow(&line, cols, selectCells(findingColumns, cols, cells))
		s := line.String()
		switch {
		case i == v.sel:
			s = t.Selected.Render(s)
		case v.marked[f.ID]:
			s = t.Marked.Render(s)
		case f.Resolution != "":
			s = t.Dim.Render(s)
		default:
			s = t.severityStyle(f.Severity).Render(s)
		}
		b.WriteByte('\n')
		b.WriteString(s)
	}
	if detailLines > 0 {
		for range rows - (end - v.top) {
			b.WriteByte('\n')
		}
		f, _ := v.selected()
		text := fmt.Sprintf("› %d %s", f.ID, f.Detail)
		if f.Resolution != "" {
			text += fmt.Sprintf(" [%s by %s: %s]", f.Resolution, f.Resolver, f.Note)
		}
		text = gateway.MaskBuyerIDs(text)
		w := wrap(text, v.width)
		for i := range detailLines {
			b.WriteByte('\n')
			if i < len(w) {
				b.WriteString(t.Dim.Render(truncateLines(w[i], v.width)))
			}
		}
	}
	return b.String()
}

func (v *reconView) ShortHelp() []key.Binding {
	k := v.c.keys
	fk := v.findingKeys()
	if v.detail != nil {
		return []key.Binding{k.Back, fk.query, fk.replay, fk.resolve, fk.open, k.Help}
	}
	return []key.Binding{v.runKey(), k.Enter, k.Channel, k.PrevDay, k.Kind, k.Category, fk.query, fk.resolve, k.Help}
}

func (v *reconView) FullHelp() [][]key.Binding {
	k := v.c.keys
	fk := v.findingKeys()
	return [][]key.Binding{
		{v.runKey(), k.Channel, k.PrevDay, k.NextDay, k.Kind, k.BillFile},
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Category, k.Filter, k.Enter, k.Back},
		{fk.query, fk.replay, fk.refund, fk.resolve, fk.ignore, v.markKey(), v.clearMarkKey(), fk.open, only(k.Export, v.c.can(ops.ActExport))},
		k.globalHelp(),
	}
}
