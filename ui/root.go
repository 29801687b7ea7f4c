package ui

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/progress"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/paydesk/paydesk/ops"
)

// view is one tab: a Bubble Tea model that can size itself and describe
// its keys (soft-serve's Component). Focused reports a focused input (a
// filter line, a file path) that must get keys before the global ones.
//
// A view shows what the store holds now: reloadShown reads again what is on
// screen (the visible page by keyset, or the open detail), keeping the
// selection on its row; the root calls it when the view is shown, and when
// the store's change stamp moved in a field the view watches.
type view interface {
	tea.Model
	help.KeyMap
	SetSize(w, h int)
	Focused() bool
	watches(old, now ops.Changes) bool
	reloadShown() tea.Cmd
}

// Model is the console: header, tabs, the active view, the status bar, and
// at most one dialog over them.
type Model struct {
	c      *programContext
	views  [tabCount]view
	active viewID
	dialog dialog

	cmdline  textinput.Model
	cmdOpen  bool
	showHelp bool
	hint     bool

	toast   toastMsg
	toastID int
	tasks   []*taskState
	// early are tasks whose final message overtook their start message
	// (the two run as separate commands, in any order).
	early   map[int]bool
	spinner spinner.Model
	help    help.Model
	bar     progress.Model

	// tabX are the columns of each tab label, for mouse clicks.
	tabX [tabCount][2]int

	// stamp is the store's change stamp as last read (stamped: read at
	// least once); polling while a read of it is in flight.
	stamp            ops.Changes
	stamped, polling bool
}

type taskState struct {
	id          int
	label       string
	done, total int
}

// progressReporter is a task's progress message.
type progressReporter interface {
	progress() (task, done, total int)
}

// New builds the console over svc. ctx bounds every operation it starts.
func New(ctx context.Context, svc *ops.Service, opts Options) *Model {
	opts = opts.withDefaults()
	c := &programContext{
		ctx: ctx, svc: svc, opts: opts, theme: newTheme(opts.Renderer), keys: newKeyMap(),
		zone: svc.Zone(), now: opts.Clock(), width: 100, height: 30,
	}
	m := &Model{c: c, hint: opts.FirstRunHint}
	m.views[ordersTab] = newOrdersView(c)
	m.views[reconTab] = newReconView(c)
	m.views[notificationsTab] = newNotificationsView(c)
	m.views[refundsTab] = newRefundsView(c)
	m.views[auditTab] = newAuditView(c)
	m.cmdline = newInput(c.theme, "order PD2026… · recon alipay 2026-11-22 · q", 50)
	m.spinner = spinner.New(spinner.WithSpinner(spinner.MiniDot))
	c.spin = m.spinner.Spinner.Frames[0]
	m.help = help.New()
	m.help.Styles = c.theme.help(m.help.Styles)
	m.help.ShortSeparator = " · "
	m.bar = progress.New(progress.WithWidth(20), progress.WithoutPercentage(), progress.WithSolidFill("#58A6FF"),
		progress.WithColorProfile(c.theme.r.ColorProfile()))
	m.bar.Full, m.bar.Empty = '#', '.'
	m.resize()
	return m
}

func (m *Model) Init() tea.Cmd {
	cmds := []tea.Cmd{m.tick(), m.poll()}
	for _, v := range m.views {
		cmds = append(cmds, v.Init())
	}
	return tea.Batch(cmds...)
}

func (m *Model) tick() tea.Cmd {
	if m.c.opts.noTicks {
		return nil
	}
	return tea.Tick(time.Second, func(t time.Time) tea.Msg { return clockMsg(t) })
}

// bodyHeight is what the views get: the terminal less the header, the
// tab line and the status bar.
func bodyHeight(c *programContext) int { return max(1, c.height-3) }

func (m *Model) resize() {
	for _, v := range m.views {
		v.SetSize(m.c.width, bodyHeight(m.c))
	}
	m.help.Width = m.c.width
	m.cmdline.Width = max(10, m.c.width-4)
}

func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := m.update(msg)
	if d := m.c.pending; d != nil {
		m.dialog, m.c.pending = d, nil
	}
	return m, cmd
}

func (m *Model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.c.width, m.c.height = msg.Width, msg.Height
		m.resize()
		return nil
	case clockMsg:
		m.c.now = m.c.opts.Clock()
		return tea.Batch(m.tick(), m.poll())
	case changesMsg:
		return m.changed(msg)
	case spinner.TickMsg:
		if len(m.tasks) == 0 {
			return nil
		}
		var cmd tea.Cmd
		m.spinner, cmd = m.spinner.Update(msg)
		m.c.spin = m.spinner.View()
		return cmd
	case toastMsg:
		m.toast = msg
		m.toastID++
		if m.c.opts.noTicks {
			return nil
		}
		id, d := m.toastID, 4*time.Second
		if msg.kind == toastErr {
			d = 8 * time.Second // errors need reading, not just noticing
		}
		return tea.Tick(d, func(time.Time) tea.Msg { return toastExpiredMsg{id} })
	case toastExpiredMsg:
		if msg.id == m.toastID {
			m.toast = toastMsg{}
		}
		return nil
	case taskStartedMsg:
		if m.early[msg.id] {
			delete(m.early, msg.id)
			return nil
		}
		m.tasks = append(m.tasks, &taskState{id: msg.id, label: msg.label})
		if len(m.tasks) == 1 && !m.c.opts.noTicks {
			return m.spinner.Tick
		}
		return nil
	case taskMsg:
		inner := msg.msg
		if f, ok := inner.(taskFinal); ok {
			m.endTask(f.id)
			inner = f.msg
		}
		if p, ok := inner.(progressReporter); ok {
			id, done, total := p.progress()
			for _, t := range m.tasks {
				if t.id == id {
					t.done, t.total = done, total
				}
			}
		}
		_, cmd := m.Update(inner)
		return tea.Batch(waitTask(msg.ch), cmd)
	case openDialogMsg:
		m.dialog = msg.d
		return nil
	case jumpMsg:
		m.dialog = nil
		cmd := m.switchTo(msg.to)
		if msg.to == ordersTab && msg.order != "" {
			cmd = tea.Batch(cmd, m.views[ordersTab].(*ordersView).openOrder(msg.order))
		}
		return cmd
	case reconJumpMsg:
		m.dialog = nil
		return tea.Batch(m.switchTo(reconTab), m.views[reconTab].(*reconView).jump(msg))
	case quitMsg:
		return tea.Quit
	case tea.KeyMsg:
		return m.key(msg)
	case tea.MouseMsg:
		return m.mouse(msg)
	}
	if _, ok := msg.(forDialog); ok && m.dialog != nil {
		var cmd tea.Cmd
		m.dialog, cmd = m.dialog.Update(msg)
		return cmd
	}
	if t, ok := msg.(targeted); ok {
		_, cmd := m.views[t.target()].Update(msg)
		return cmd
	}
	return nil
}

func (m *Model) endTask(id int) {
	for i, t := range m.tasks {
		if t.id == id {
			m.tasks = append(m.tasks[:i], m.tasks[i+1:]...)
			return
		}
	}
	if m.early == nil {
		m.early = map[int]bool{}
	}
	m.early[id] = true
}

// key routes a key press: a dialog first, then the command line, then a
// focused input of the view, then the global keys, then the view.
func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	k := m.c.keys
	if msg.Type == tea.KeyCtrlC {
		return tea.Quit
	}
	if m.hint {
		m.hint = false
		return nil
	}
	if m.dialog != nil {
		var cmd tea.Cmd
		m.dialog, cmd = m.dialog.Update(msg)
		return cmd
	}
	if m.cmdOpen {
		return m.commandKey(msg)
	}
	v := m.views[m.active]
	if v.Focused() {
		_, cmd := v.Update(msg)
		return cmd
	}
	if m.showHelp && (key.Matches(msg, k.Help) || key.Matches(msg, k.Back)) {
		m.showHelp = false
		return nil
	}
	switch {
	case key.Matches(msg, k.Quit):
		return tea.Quit
	case key.Matches(msg, k.Help):
		m.showHelp = true
		return nil
	case key.Matches(msg, k.Command):
		m.cmdOpen = true
		m.cmdline.SetValue("")
		m.cmdline.Focus()
		return nil
	case key.Matches(msg, k.NextTab):
		return m.switchTo((m.active + 1) % tabCount)
	case key.Matches(msg, k.PrevTab):
		return m.switchTo((m.active + tabCount - 1) % tabCount)
	}
	for i, b := range k.Tabs {
		if key.Matches(msg, b) {
			return m.switchTo(viewID(i))
		}
	}
	_, cmd := v.Update(msg)
	return cmd
}

// switchTo shows a tab and reads again what it shows: anything may have
// changed while it was hidden.
func (m *Model) switchTo(id viewID) tea.Cmd {
	if m.active == id {
		return nil
	}
	m.active = id
	return m.views[id].reloadShown()
}

// changesMsg is a read of the store's change stamp.
type changesMsg struct {
	c   ops.Changes
	err error
}

// poll reads the change stamp, one read at a time, on every clock tick
// (each second): a handful of index lookups, whatever the store's size.
func (m *Model) poll() tea.Cmd {
	if m.polling {
		return nil
	}
	m.polling = true
	c := m.c
	return func() tea.Msg {
		ch, err := c.svc.Changes(c.ctx)
		return changesMsg{c: ch, err: err}
	}
}

// changed hands a moved stamp to the view in front, which reloads what it
// shows if the move touches it. Hidden views reload when they are shown. A
// failed read is retried on the next tick, silently: the views' own reads
// say what is wrong with the store.
func (m *Model) changed(msg changesMsg) tea.Cmd {
	m.polling = false
	if msg.err != nil {
		return nil
	}
	old, first := m.stamp, !m.stamped
	m.stamp, m.stamped = msg.c, true
	if first || old == msg.c {
		return nil
	}
	if v := m.views[m.active]; v.watches(old, msg.c) {
		return v.reloadShown()
	}
	return nil
}

func (m *Model) mouse(msg tea.MouseMsg) tea.Cmd {
	if m.dialog != nil || m.hint {
		return nil
	}
	if msg.Action == tea.MouseActionPress && msg.Button == tea.MouseButtonLeft && msg.Y == 1 {
		for i, x := range m.tabX {
			if msg.X >= x[0] && msg.X < x[1] {
				return m.switchTo(viewID(i))
			}
		}
		return nil
	}
	_, cmd := m.views[m.active].Update(msg)
	return cmd
}

// commandKey edits and runs the `:` command line.
func (m *Model) commandKey(msg tea.KeyMsg) tea.Cmd {
	switch msg.Type {
	case tea.KeyEsc:
		m.cmdOpen = false
		m.cmdline.Blur()
		return nil
	case tea.KeyEnter:
		m.cmdOpen = false
		m.cmdline.Blur()
		return m.runCommand(m.cmdline.Value())
	}
	var cmd tea.Cmd
	m.cmdline, cmd = m.cmdline.Update(msg)
	return cmd
}

// runCommand runs one command line: `order NO`, `recon CHANNEL DAY`,
// a view name, or `q`.
func (m *Model) runCommand(line string) tea.Cmd {
	f := strings.Fields(line)
	if len(f) == 0 {
		return nil
	}
	switch strings.ToLower(f[0]) {
	case "q", "quit", "q!", "exit":
		return func() tea.Msg { return quitMsg{} }
	case "order", "o":
		if len(f) != 2 {
			return toastCmd(toastErr, "usage: :order OUT_TRADE_NO")
		}
		return func() tea.Msg { return jumpMsg{to: ordersTab, order: f[1]} }
	case "recon", "r":
		j, err := parseReconCommand(f[1:], m.c)
		if err != nil {
			return toastCmd(toastErr, err.Error())
		}
		return func() tea.Msg { return j }
	case "orders":
		return m.switchTo(ordersTab)
	case "reconcile":
		return m.switchTo(reconTab)
	case "notifications", "notify", "callbacks":
		return m.switchTo(notificationsTab)
	case "refunds":
		return m.switchTo(refundsTab)
	case "audit":
		return m.switchTo(auditTab)
	case "help":
		m.showHelp = true
		return nil
	}
	return toastCmd(toastErr, fmt.Sprintf("unknown command %q: try :order NO, :recon alipay 2026-11-22, :orders, :audit or :q", f[0]))
}

func (m *Model) View() string {
	c := m.c
	var b strings.Builder
	b.WriteString(m.headerLine())
	b.WriteByte('\n')
	b.WriteString(m.tabLine())
	b.WriteByte('\n')
	bh := bodyHeight(c)
	switch {
	case m.dialog != nil:
		b.WriteString(padLines(m.dialog.View(c), bh))
	case m.hint:
		b.WriteString(m.hintView(bh))
	case m.showHelp:
		full := m.help.FullHelpView(m.views[m.active].FullHelp())
		hh := lipgloss.Height(full) + 1
		b.WriteString(padLines(m.views[m.active].View(), max(bh-hh, 0)))
		if bh-hh > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(padLines(c.theme.Dim.Render(strings.Repeat("─", c.width))+"\n"+full, min(hh, bh)))
	default:
		// Views fit themselves; the cut guards a terminal narrower than a
		// view's essential columns.
		b.WriteString(truncateLines(padLines(m.views[m.active].View(), bh), c.width))
	}
	b.WriteByte('\n')
	b.WriteString(m.statusLine())
	return b.String()
}

func (m *Model) headerLine() string {
	c := m.c
	t := c.theme
	brand := "paydesk"
	if c.opts.Title != "" {
		brand += " · " + c.opts.Title
	}
	ws := c.opts.Workspace
	if ws == "" {
		ws = c.svc.StorePath()
		// A file is shown absolute; a PostgreSQL URL as it is.
		if abs, err := filepath.Abs(ws); err == nil && !strings.Contains(ws, "://") {
			ws = abs
		}
	}
	op := c.svc.Operator()
	chans := "no platforms configured"
	if ch := c.svc.Channels(); len(ch) > 0 {
		names := make([]string, len(ch))
		for i, x := range ch {
			names[i] = string(x)
		}
		chans = strings.Join(names, "+")
	}
	role := string(op.Role)
	if !c.can(ops.ActRefund) && !c.can(ops.ActReplay) && !c.can(ops.ActQuery) {
		role += ", read-only"
	}
	clock := c.now.In(c.zone).Format("2006-01-02 15:04:05")
	right := fmt.Sprintf("%s (%s) │ %s │ %s", op.Name, role, chans, clock)
	room := c.width - lipgloss.Width(brand) - lipgloss.Width(right) - 6
	if room < 8 {
		right = fmt.Sprintf("%s (%s) │ %s", op.Name, role, c.now.In(c.zone).Format("15:04:05"))
		room = c.width - lipgloss.Width(brand) - lipgloss.Width(right) - 6
	}
	mid := ""
	if room >= 8 {
		mid = fit(ws, room, false)
	}
	line := t.Brand.Render(brand) + " │ " + t.HeaderInfo.Render(mid) + " │ " + t.HeaderInfo.Render(right)
	return truncateLines(line, c.width)
}

// tabLine draws the tabs; the active one is bracketed, so it shows
// without colour too.
func (m *Model) tabLine() string {
	t := m.c.theme
	var b strings.Builder
	x := 0
	for i, name := range tabNames {
		label := fmt.Sprintf(" %d %s ", i+1, name)
		if viewID(i) == m.active {
			label = "[" + label[1:len(label)-1] + "]"
			b.WriteString(t.TabActive.Render(label))
		} else {
			b.WriteString(t.Tab.Render(label))
		}
		w := lipgloss.Width(label)
		m.tabX[i] = [2]int{x, x + w}
		x += w
		if i < len(tabNames)-1 {
			b.WriteString(t.Dim.Render("│"))
			x++
		}
	}
	return truncateLines(b.String(), m.c.width)
}

func (m *Model) statusLine() string {
	c := m.c
	t := c.theme
	if m.cmdOpen {
		return truncateLines(":"+m.cmdline.View(), c.width)
	}
	right := ""
	if len(m.tasks) > 0 {
		task := m.tasks[len(m.tasks)-1]
		right = c.spin + " " + task.label
		if task.total > 0 {
			right += fmt.Sprintf(" %s %d/%d", m.bar.ViewAs(float64(task.done)/float64(task.total)), task.done, task.total)
		}
		if len(m.tasks) > 1 {
			right += fmt.Sprintf(" (+%d)", len(m.tasks)-1)
		}
	}
	var left string
	switch m.toast.kind {
	case toastErr:
		left = t.ToastErr.Render("error: " + m.toast.text)
	case toastOK:
		left = t.ToastOK.Render("ok: " + m.toast.text)
	default:
		left = t.ToastInfo.Render(m.toast.text)
	}
	if m.toast.text == "" {
		left = m.help.ShortHelpView(m.views[m.active].ShortHelp())
	}
	rw := lipgloss.Width(right)
	lw := c.width - rw - 1
	if rw == 0 {
		lw = c.width
	}
	if lipgloss.Width(left) > lw {
		left = truncateLines(left, max(lw, 0))
	}
	gap := max(c.width-lipgloss.Width(left)-rw, 0)
	return truncateLines(left+strings.Repeat(" ", gap)+t.Status.Render(right), c.width)
}

// hintView is the first-run card over the console it introduces: the
// list stays visible (dimmed) around it, so the first screen already shows
// the data the three keys work on.
func (m *Model) hintView(h int) string {
	c := m.c
	t := c.theme
	lines := []string{
		t.Title.Render("Welcome to paydesk"),
		"",
		"Three jobs, three keys:",
		"",
		t.Key.Render("2 N    ") + "   reconcile yesterday's bill (channel with c, day with h/l)",
		t.Key.Render("/ R    ") + "   look up an order (type its number), then refund it",
		t.Key.Render("3 A    ") + "   replay the callbacks that failed",
		"",
		t.Dim.Render("enter opens · esc goes back · capitals change records · ? every key"),
		t.Dim.Render(": order PD… jumps to an order · any key to start"),
	}
	if !c.can(ops.ActRefund) && !c.can(ops.ActReplay) {
		lines = append(lines, t.Dim.Render("Your role ("+string(c.svc.Operator().Role)+") reads and reconciles; refunds and replays are hidden."))
	}
	body := truncateLines(padLines(m.views[m.active].View(), h), c.width)
	return overlay(t, body, framedBox(c, strings.Join(lines, "\n")), c.width, h)
}
