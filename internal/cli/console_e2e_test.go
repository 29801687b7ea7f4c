package cli

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/store"
)

// The console's end-to-end tests run the real binary (this test binary,
// re-executed as paydesk through TestMain) in a tmux terminal of fixed size,
// type into it as an operator would, one key at a time, and read the
// screen back with capture-pane after each step.

const (
	termCols, termRows = 120, 34
	// shellPrompt is set in the pane's shell, so the test can tell when
	// paydesk has exited and the shell has the terminal again.
	shellPrompt = "e2e$ "
	// screenTimeout bounds the wait for one step to show: generous, for a
	// shared 2-core machine running other packages' tests at the same time.
	screenTimeout = 30 * time.Second
	// bootTimeout bounds the demo's bootstrap (normally under 10 s).
	bootTimeout = 90 * time.Second
)

var orderNoRE = regexp.MustCompile(`PD\d{14}[0-9A-Z]{6}`)

// tmuxTerm is a shell in a private tmux server (its own socket in the
// test's folder, so it neither sees nor disturbs anyone's tmux).
type tmuxTerm struct {
	t    *testing.T
	tmux string
	sock string
	env  []string
	last string
}

// startTmux starts a tmux server with one session of termCols×termRows
// running sh with env, and a known prompt. It skips the test when tmux is
// not installed.
func startTmux(t *testing.T, dir string, env []string) *tmuxTerm {
	t.Helper()
	return startTmuxSized(t, dir, env, termCols, termRows)
}

// startTmuxSized is startTmux with a terminal of cols×rows.
func startTmuxSized(t *testing.T, dir string, env []string, cols, rows int) *tmuxTerm {
	t.Helper()
	bin, err := exec.LookPath("tmux")
	if err != nil {
		t.Skip("tmux is not installed: the console's end-to-end tests drive the real binary in a tmux terminal (apt-get install tmux)")
	}
	// No user config; no status line (it would take a row from the
	// console); no delay after an escape.
	conf := filepath.Join(dir, "tmux.conf")
	if err := os.WriteFile(conf, []byte("set -g status off\nset -g escape-time 0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	term := &tmuxTerm{t: t, tmux: bin, sock: filepath.Join(dir, "tmux.sock"), env: env}
	term.run("-f", conf, "new-session", "-d", "-s", "e2e", "-x", fmt.Sprint(cols), "-y", fmt.Sprint(rows), "sh")
	t.Cleanup(func() { _ = exec.Command(bin, "-S", term.sock, "kill-server").Run() })
	if size := strings.TrimSpace(term.run("display-message", "-p", "-t", "e2e", "#{pane_width}x#{pane_height}")); size != fmt.Sprintf("%dx%d", cols, rows) {
		t.Fatalf("the tmux pane is %s, not %dx%d", size, cols, rows)
	}
	// Typed before the shell has started, the line would be echoed ahead
	// of its first prompt: wait for that prompt first.
	term.waitFor("the shell's first prompt", screenTimeout, func(s string) bool { return strings.TrimSpace(s) != "" })
	term.typeLine("PS1='" + shellPrompt + "'")
	term.waitFor("the shell prompt", screenTimeout, promptBack)
	return term
}

func (m *tmuxTerm) run(args ...string) string {
	m.t.Helper()
	// -u: the console draws box lines and ¥; tmux must treat the pane and
	// capture-pane's output as UTF-8 whatever the locale.
	cmd := exec.Command(m.tmux, append([]string{"-u", "-S", m.sock}, args...)...)
	cmd.Env = m.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		m.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// key presses one key (a tmux key name: "j", "Enter", "Escape", "C-u").
// Keys go one per send-keys: Bubble Tea v1 reads several characters that
// arrive together as one key press.
func (m *tmuxTerm) key(k string) { m.run("send-keys", "-t", "e2e", k) }

// typeText types text into a focused input (one paste is fine there).
func (m *tmuxTerm) typeText(s string) { m.run("send-keys", "-t", "e2e", "-l", s) }

func (m *tmuxTerm) typeLine(s string) {
	m.typeText(s)
	m.key("Enter")
}

func (m *tmuxTerm) screen() string {
	m.last = m.run("capture-pane", "-p", "-t", "e2e")
	return m.last
}

// waitFor polls the screen until ok holds, and returns that screen; on
// timeout it fails with what the screen showed.
func (m *tmuxTerm) waitFor(what string, timeout time.Duration, ok func(screen string) bool) string {
	m.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := m.screen()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("after %s the screen still does not show %s:\n%s", timeout, what, s)
		}
		time.Sleep(40 * time.Millisecond)
	}
}

// waitText waits for every text to be on the screen.
func (m *tmuxTerm) waitText(timeout time.Duration, texts ...string) string {
	m.t.Helper()
	return m.waitFor(fmt.Sprintf("%q", texts), timeout, func(s string) bool {
		for _, x := range texts {
			if !strings.Contains(s, x) {
				return false
			}
		}
		return true
	})
}

func (m *tmuxTerm) waitMatch(timeout time.Duration, re *regexp.Regexp) []string {
	m.t.Helper()
	var got []string
	m.waitFor(re.String(), timeout, func(s string) bool {
		got = re.FindStringSubmatch(s)
		return got != nil
	})
	return got
}

// promptBack: the shell has the terminal again, waiting at its prompt at
// the end of the last line written.
func promptBack(screen string) bool {
	lines := strings.Split(strings.TrimRight(screen, "\n "), "\n")
	return strings.HasSuffix(lines[len(lines)-1], strings.TrimSpace(shellPrompt))
}

// selectedRow is the list row the console marks as selected ('>').
func selectedRow(screen string) string {
	for _, l := range strings.Split(screen, "\n") {
		if strings.HasPrefix(l, ">") {
			return l
		}
	}
	return ""
}

// shellQuote quotes s for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// e2eEnv is the environment the terminal runs in: no paydesk settings of
// the test runner's, a home and cache inside the test's folder (the demo
// makes its workspace under the user cache folder when given none).
func e2eEnv(dir string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + filepath.Join(dir, "home"), "XDG_CACHE_HOME=" + filepath.Join(dir, "cache"), "LANG=C.UTF-8"}
	if tmp := os.Getenv("TMPDIR"); tmp != "" {
		env = append(env, "TMPDIR="+tmp)
	}
	return env
}

// paydeskCommand is the shell line that starts paydesk with args.
func paydeskCommand(args ...string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = shellQuote(a)
	}
	return strings.TrimSpace(runMainEnv + "=1 " + shellQuote(os.Args[0]) + " " + strings.Join(quoted, " "))
}

// quitAndCheckTerminal quits with q and checks the terminal is as the
// shell left it: the prompt back, the normal screen (no alternate screen
// left on, nothing of the console on it), the cursor shown, mouse
// reporting off.
func quitAndCheckTerminal(t *testing.T, term *tmuxTerm) string {
	t.Helper()
	term.key("q")
	screen := term.waitFor("the shell prompt after q", screenTimeout, promptBack)
	flags := strings.Fields(term.run("display-message", "-p", "-t", "e2e", "#{alternate_on} #{cursor_flag} #{mouse_any_flag} #{mouse_standard_flag} #{mouse_button_flag}"))
	if want := []string{"0", "1", "0", "0", "0"}; strings.Join(flags, " ") != strings.Join(want, " ") {
		t.Errorf("terminal modes after quitting (alternate screen, cursor shown, mouse any/standard/button): %v, want %v", flags, want)
	}
	for _, leftover := range []string{"Orders │", "Reconcile", "Notifications", "paydesk ·", "? help"} {
		if strings.Contains(screen, leftover) {
			t.Errorf("the console left %q on the terminal:\n%s", leftover, screen)
		}
	}
	return screen
}

// TestConsoleEndToEnd runs `paydesk demo --dir DIR` in tmux and works the
// console as an operator: finds an order by filtering, opens it, queries
// it live, refunds part of it through the confirmation, runs yesterday's
// reconciliation, replays the callback that failed because its order
// arrived late, and quits. Each step is checked on the screen, and the
// workspace's database afterwards.
func TestConsoleEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("boots the demo workspace and drives the console in tmux")
	}
	dir := t.TempDir()
	ws := filepath.Join(dir, "ws")
	term := startTmux(t, dir, e2eEnv(dir))
	term.typeLine(paydeskCommand("demo", "--dir", ws))
	// The first-run hint sits over the orders, which show around it.
	hint := term.waitText(bootTimeout, "Welcome to paydesk", "all orders · 1 of", "OUT_TRADE_NO")
	if rows := len(orderNoRE.FindAllString(hint, -1)); rows < 3 {
		t.Errorf("the first-run hint hides the list: %d order rows around it:\n%s", rows, hint)
	}
	t.Logf("first-run hint over the list:\n%s", hint)
	term.key("Space") // any key dismisses the first-run hint
	term.waitMatch(screenTimeout, regexp.MustCompile(`all orders · 1 of [\d,]+ orders`))

	// Filter: paid Alipay orders. The first whose callback applied is the
	// one to work on (not the order only paydesk has, which Alipay would
	// refuse to refund).
	term.key("/")
	term.waitFor("the filter line", screenTimeout, func(s string) bool { return strings.HasPrefix(lineAt(s, 2), "/ ") })
	term.typeText("status:paid channel:alipay")
	term.waitText(screenTimeout, "/ status:paid channel:alipay")
	term.key("Enter")
	screen := term.waitText(screenTimeout, "filter: status:PAID channel:alipay · 1 of")
	no := ""
	for _, l := range strings.Split(screen, "\n") {
		// DUPLICATE is an applied callback delivered again: on a loaded
		// machine the sandbox's delivery times out and resends.
		if (strings.Contains(l, "APPLIED") || strings.Contains(l, "DUPLICATE")) && strings.Contains(l, " PAID ") {
			if no = orderNoRE.FindString(l); no != "" {
				break
			}
		}
	}
	if no == "" {
		t.Fatalf("no paid Alipay order with an applied callback on the screen:\n%s", screen)
	}
	// …then look it up by its number, as support does with the number a
	// customer reads out.
	term.filterByNumber("status:PAID channel:alipay", no)
	if row := selectedRow(term.last); !strings.Contains(row, no) {
		t.Fatalf("the selected row is not %s: %q", no, row)
	}

	// Open it, and query Alipay live.
	term.key("Enter")
	term.waitText(screenTimeout, "Order "+no, "Timeline (", "Status       PAID")
	term.key("r")
	term.waitText(screenTimeout, "ok: "+no+": agrees", "queried by demo: TRADE_SUCCESS")

	// Refund ¥1.00 of it, through the form and the confirmation.
	term.refundOneYuan(no, "e2e: customer asked")
	term.waitText(screenTimeout, "Refunded     ¥1.00", "Status       PARTIALLY_REFUNDED")

	// Yesterday's Alipay reconciliation (the console's default day).
	term.key("Escape")
	term.waitText(screenTimeout, "filter: "+no)
	term.key("2")
	m := term.waitMatch(screenTimeout, regexp.MustCompile(`channel \[alipay\]   day \[(\d{4}-\d{2}-\d{2})\]`))
	day := m[1]
	term.waitText(screenTimeout, "No run for this day yet", "N new run")
	term.key("N")
	m = term.waitMatch(screenTimeout, regexp.MustCompile(`ok: run (\d+): `))
	runID := m[1]
	term.waitText(screenTimeout, "run "+runID+" by demo", "UNPAID_LOCAL", "findings")

	// enter opens the selected finding; it runs nothing.
	runs := countRuns(t, ws)
	term.key("Enter")
	page := term.waitText(screenTimeout, "Finding ", "Usual action:", "Bill line")
	t.Logf("enter on a finding:\n%s", page)
	term.key("Escape")
	term.waitText(screenTimeout, "run "+runID+" by demo", "findings")
	if after := countRuns(t, ws); after != runs {
		t.Errorf("enter on a finding: %d runs in the store before, %d after", runs, after)
	}

	// The failed callbacks: the Alipay one that failed because its order
	// did not exist yet (UNKNOWN_ORDER) is the one a replay fixes now.
	term.key("3")
	term.waitText(screenTimeout, "[3 Notifications]", "all notifications ·")
	term.key("/")
	term.waitFor("the filter line", screenTimeout, func(s string) bool { return strings.HasPrefix(lineAt(s, 2), "/ ") })
	term.typeText("failed channel:alipay")
	term.waitText(screenTimeout, "/ failed channel:alipay")
	term.key("Enter")
	// The old page stays up until the filtered one arrives: wait for the
	// count and for every row to be of the filter.
	counted := regexp.MustCompile(`(?m)^filter: failed channel:alipay · \d+ notifications? · page 1\s*$`)
	screen = term.waitFor("the failed Alipay callbacks", screenTimeout, func(s string) bool {
		if !counted.MatchString(s) {
			return false
		}
		for _, l := range strings.Split(s, "\n") {
			if notificationRowRE.MatchString(l) && (!strings.Contains(l, " alipay ") || !strings.Contains(l, "!")) {
				return false
			}
		}
		return true
	})
	ids, target := notificationRows(screen)
	if target < 0 {
		t.Fatalf("no failed Alipay callback of an unknown order on the screen:\n%s", screen)
	}
	for i := 1; i <= target; i++ {
		term.key("j")
		term.waitFor("notification "+ids[i]+" selected", screenTimeout, func(s string) bool {
			f := strings.Fields(selectedRow(s))
			return len(f) > 1 && f[1] == ids[i]
		})
	}
	id := ids[target]
	replayed := term.waitFor("the row to replay", screenTimeout, func(s string) bool { return strings.Contains(selectedRow(s), "UNKNOWN_ORDER") })
	replayedNo := orderNoRE.FindString(selectedRow(replayed))
	term.key("P")
	term.waitText(screenTimeout, "ok: notification "+id+" replayed: VERIFIED APPLIED")

	quitAndCheckTerminal(t, term)
	term.waitText(screenTimeout, "demo data kept in "+ws)

	// The database, as the console left it.
	st, err := store.Open(filepath.Join(ws, "paydesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	o, err := st.GetOrder(ctx, no)
	if err != nil || o.Refunded != 100 || o.Status != store.OrderPartiallyRefunded {
		t.Errorf("order %s after the refund: refunded %s, %s (%v); want ¥1.00, PARTIALLY_REFUNDED", no, o.Refunded.Yuan(), o.Status, err)
	}
	rs, _ := st.ListRefunds(ctx, store.RefundFilter{OutTradeNo: no}, 0, 10)
	if len(rs) != 1 || rs[0].Status != gateway.RefundSuccess || rs[0].Amount != 100 || rs[0].Operator != "demo" || rs[0].Reason != "e2e: customer asked" {
		t.Errorf("refunds of %s: %+v", no, rs)
	}
	n, err := st.GetNotification(ctx, mustInt64(t, id))
	if err != nil || n.ApplyStatus != store.ApplyApplied || n.VerifyStatus != store.Verified || n.OutTradeNo == "" {
		t.Errorf("notification %s after the replay: %s %s %q (%v)", id, n.VerifyStatus, n.ApplyStatus, n.OutTradeNo, err)
	}
	if replayedNo != "" && n.OutTradeNo != replayedNo {
		t.Errorf("notification %s is about %s; the screen showed %s", id, n.OutTradeNo, replayedNo)
	}
	if po, err := st.GetOrder(ctx, n.OutTradeNo); err != nil || po.Status != store.OrderPaid || po.PaidVia != store.ViaNotify {
		t.Errorf("the replayed callback's order %s: %s via %s (%v); want PAID via notify", n.OutTradeNo, po.Status, po.PaidVia, err)
	}
	run, err := st.GetRun(ctx, mustInt64(t, runID))
	if err != nil || run.Channel != gateway.Alipay || run.Day != day || run.Operator != "demo" {
		t.Errorf("run %s: %s %s by %s (%v)", runID, run.Channel, run.Day, run.Operator, err)
	}
	fs, _ := st.ListFindings(ctx, store.FindingFilter{RunID: run.ID})
	cats := map[string]int{}
	for _, f := range fs {
		cats[f.Category]++
	}
	if len(fs) == 0 || cats["UNPAID_LOCAL"] == 0 {
		t.Errorf("run %s saved findings %v", runID, cats)
	}
	// Every action is in the audit log, by operator demo, with its outcome.
	for _, want := range []struct{ action, target string }{
		{"query", no}, {"refund", no}, {"reconcile", "alipay " + day}, {"replay", n.OutTradeNo},
	} {
		es, _ := st.ListAudit(ctx, store.AuditFilter{Operator: "demo", Action: want.action, Target: want.target}, 0, 10)
		ok := false
		for _, e := range es {
			ok = ok || (e.Outcome == store.AuditOK && !e.At.Before(run.StartedAt.Add(-time.Hour)))
		}
		if !ok {
			t.Errorf("no successful %s of %s by demo in the audit log: %+v", want.action, want.target, es)
		}
	}
}

// filterByNumber replaces the Orders filter (showing current) with an
// order number, and waits for that order alone.
func (m *tmuxTerm) filterByNumber(current, no string) {
	m.t.Helper()
	m.key("/")
	m.waitText(screenTimeout, "/ "+current)
	m.key("C-u")
	m.waitFor("an empty filter line", screenTimeout, func(s string) bool { return !strings.Contains(lineAt(s, 2), current) })
	m.typeText(no)
	m.waitText(screenTimeout, "/ "+no)
	m.key("Enter")
	m.waitText(screenTimeout, "filter: "+no+" · 1 of 1 order")
}

// refundOneYuan refunds ¥1.00 of the Alipay order open on the screen
// through the refund form and its confirmation, and waits for SUCCESS.
func (m *tmuxTerm) refundOneYuan(no, reason string) {
	m.t.Helper()
	m.key("R")
	m.waitText(screenTimeout, "Refund "+no, "Refundable")
	m.key("C-u")
	m.typeText("1.00")
	m.waitMatch(screenTimeout, regexp.MustCompile(`Amount  ¥ 1\.00\s`))
	m.key("Tab")
	m.typeText(reason)
	m.waitText(screenTimeout, "Reason    "+reason)
	m.key("Enter")
	m.waitText(screenTimeout, "Confirm refund", "Amount      ¥1.00 of", "This will refund ¥1.00 of alipay order "+no, "y to confirm")
	m.key("y")
	m.waitMatch(screenTimeout, regexp.MustCompile(`ok: refund RF\w+ of ¥1\.00 for `+no+`: SUCCESS`))
}

// notificationRowRE is a row of the Notifications list: the selection and
// failure marks, then the id.
var notificationRowRE = regexp.MustCompile(`^[> ][! ]\s+(\d+) `)

// notificationRows reads the notification ids of the listed rows, top to
// bottom, and which row is a callback of an unknown order.
func notificationRows(screen string) (ids []string, unknownOrder int) {
	unknownOrder = -1
	for _, l := range strings.Split(screen, "\n") {
		m := notificationRowRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		if unknownOrder < 0 && strings.Contains(l, "UNKNOWN_ORDER") && orderNoRE.MatchString(l) {
			unknownOrder = len(ids)
		}
		ids = append(ids, m[1])
	}
	return ids, unknownOrder
}

// countRuns counts the reconciliation runs in a workspace's store.
func countRuns(t *testing.T, ws string) int {
	t.Helper()
	st, err := store.Open(filepath.Join(ws, "paydesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := st.ListRuns(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	return len(runs)
}

func lineAt(screen string, i int) string {
	lines := strings.Split(screen, "\n")
	if i < len(lines) {
		return lines[i]
	}
	return ""
}

func mustInt64(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return n
}

// cutOrderNo is an order number the console cut to fit a column.
var cutOrderNo = regexp.MustCompile(`PD\d{6,}[0-9A-Z]*…`)

// TestConsoleShowsWhatTheStoreHoldsNow runs the demo console at 200×50 and
// checks what the console promises a wide terminal and a team: whole order
// numbers in Orders and Reconcile; a reconciliation run from the command
// line (as cron or a colleague would) appearing in the open console without
// a key press; enter on one of its findings opening the finding and
// running nothing.
func TestConsoleShowsWhatTheStoreHoldsNow(t *testing.T) {
	if testing.Short() {
		t.Skip("boots the demo workspace and drives the console in tmux")
	}
	dir := t.TempDir()
	ws := filepath.Join(dir, "ws")
	term := startTmuxSized(t, dir, e2eEnv(dir), 200, 50)
	term.typeLine(paydeskCommand("demo", "--dir", ws))
	term.waitText(bootTimeout, "Welcome to paydesk")
	term.key("Space")
	term.waitMatch(screenTimeout, regexp.MustCompile(`all orders · 1 of [\d,]+ orders`))
	orders := term.waitText(screenTimeout, "OUT_TRADE_NO", "TRADE_NO", "SUBJECT")
	if n := len(orderNoRE.FindAllString(orders, -1)); n < 40 || cutOrderNo.MatchString(orders) {
		t.Errorf("Orders at 200×50: %d whole order numbers, cut ones: %q\n%s", n, cutOrderNo.FindAllString(orders, -1), orders)
	}
	t.Logf("Orders at 200×50:\n%s", orders)

	term.key("2")
	term.waitText(screenTimeout, "channel [alipay]", "No run for this day yet")
	// The run comes from the command line, in another process.
	cmd := exec.Command(os.Args[0], "--config", filepath.Join(ws, "paydesk.toml"), "--operator", "cron", "recon", "run", "--channel", "alipay", "--json")
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("paydesk recon run from the CLI: %v\n%s", err, out)
	}
	start := time.Now()
	recon := term.waitMatch(screenTimeout, regexp.MustCompile(`run (\d+) by cron at`))
	t.Logf("the CLI's run %s showed in the open console %.1f s after the CLI ended, without a key press", recon[1], time.Since(start).Seconds())
	screen := term.waitText(screenTimeout, "findings", "UNPAID_LOCAL")
	if n := len(orderNoRE.FindAllString(screen, -1)); n < 3 || cutOrderNo.MatchString(screen) {
		t.Errorf("Reconcile at 200×50: %d whole order numbers, cut ones %q:\n%s", n, cutOrderNo.FindAllString(screen, -1), screen)
	}
	t.Logf("Reconcile at 200×50, the CLI's run:\n%s", screen)

	// enter opens the finding and runs nothing.
	before := countRuns(t, ws)
	term.key("Enter")
	page := term.waitText(screenTimeout, "Finding ", "Bill line", "Local order", "Actions")
	t.Logf("enter on a finding:\n%s", page)
	if after := countRuns(t, ws); after != before {
		t.Errorf("runs before enter %d, after %d", before, after)
	}
	t.Logf("runs in the store before enter %d, after %d", before, countRuns(t, ws))
	term.key("Escape")
	term.waitText(screenTimeout, "run "+recon[1]+" by cron")
	quitAndCheckTerminal(t, term)
}

// TestFirstRunShowsTheConsoleFast measures a newcomer's first run:
// `paydesk` with no config in an empty folder opens the demo; the time is
// from the command's enter to the populated console (the first-run hint,
// then, one key later, the orders listed). The build is not in it (the
// binary is built already). Issue 8 asks for at most 10 s; the figure is
// logged (go test -v -run TestFirstRun) rather than enforced, since on a
// shared machine running other tests it measures the machine as much as
// paydesk.
func TestFirstRunShowsTheConsoleFast(t *testing.T) {
	if testing.Short() {
		t.Skip("boots the demo workspace in tmux")
	}
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o700); err != nil {
		t.Fatal(err)
	}
	term := startTmux(t, dir, e2eEnv(dir))
	term.typeLine("cd " + shellQuote(empty))
	term.waitFor("the shell prompt", screenTimeout, promptBack)
	term.run("clear-history", "-t", "e2e")
	term.typeText(paydeskCommand())
	start := time.Now()
	term.key("Enter")
	term.waitText(bootTimeout, "Welcome to paydesk")
	hint := time.Since(start)
	term.key("Space")
	term.waitMatch(screenTimeout, regexp.MustCompile(`all orders · 1 of [\d,]+ orders`))
	listed := time.Since(start)
	t.Logf("first run: the console (first-run hint) showed %.1f s after enter, the orders listed %.1f s after it (issue 8: at most 10 s)",
		hint.Seconds(), listed.Seconds())

	quitAt := time.Now()
	quitAndCheckTerminal(t, term)
	t.Logf("q gave the shell its prompt back after %.1f s", time.Since(quitAt).Seconds())
	// The demo went to the user cache folder, and the folder paydesk was
	// started in is as empty as it was.
	if left, _ := os.ReadDir(empty); len(left) != 0 {
		t.Errorf("paydesk left %d files in the folder it was started in", len(left))
	}
	if wss, _ := filepath.Glob(filepath.Join(dir, "cache", "paydesk", "demo-*", "paydesk.db")); len(wss) != 1 {
		t.Errorf("demo workspaces in the cache folder: %v", wss)
	}
}
