package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/paydesk/paydesk/internal/dbtest"
	"github.com/paydesk/paydesk/internal/demo"
	"github.com/paydesk/paydesk/store"
)

// TestStoreCopyOfTheDemo copies the demo workspace, reconciled on both
// channels, into PostgreSQL with `paydesk store copy`, then asks the CLI
// and the console the same questions of both databases: the same orders,
// callbacks and runs with the same findings, the same screens. A run made
// again on the copy finds what the SQLite run found.
func TestStoreCopyOfTheDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the demo workspace")
	}
	url := dbtest.PostgresDB(t)
	dir := t.TempDir()
	ctx := context.Background()
	d, err := demo.Start(ctx, demo.Options{Dir: filepath.Join(dir, "ws"), OrdersPerDay: demoCopyOrdersPerDay, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	cfg := filepath.Join(d.Dir, "paydesk.toml")
	lite := filepath.Join(d.Dir, "paydesk.db")
	day := d.Yesterday.Format(store.DayFormat)
	var runs []string
	for _, ch := range []string{"alipay", "wechat"} {
		code, out, errOut := runCLI(t, "--config", cfg, "recon", "run", "--channel", ch, "--date", day, "--json")
		if code != 0 {
			t.Fatalf("recon run %s: %s", ch, errOut)
		}
		var run struct{ ID int64 }
		if err := json.Unmarshal([]byte(out), &run); err != nil {
			t.Fatal(err)
		}
		runs = append(runs, fmt.Sprint(run.ID))
	}

	code, out, errOut := runCLI(t, "--config", cfg, "store", "copy", "--to", url)
	if code != 0 {
		t.Fatalf("store copy: %s\n%s", out, errOut)
	}
	if !strings.Contains(out, "Verified: every table has the same rows and money totals") {
		t.Fatalf("store copy printed:\n%s", out)
	}
	// Nothing is left to copy: a second run finds every row already there.
	code, again, errOut := runCLI(t, "--config", cfg, "store", "copy", "--to", url, "--json")
	if code != 0 {
		t.Fatalf("store copy again: %s", errOut)
	}
	var rep store.CopyReport
	if err := json.Unmarshal([]byte(again), &rep); err != nil {
		t.Fatal(err)
	}
	for _, tb := range rep.Tables {
		if tb.AlreadyThere != tb.Total || tb.Copied != tb.Total {
			t.Errorf("the second copy of %s: %+v; want every row already there", tb.Table, tb)
		}
	}

	same := func(args ...string) string {
		t.Helper()
		code, a, errA := runCLI(t, append([]string{"--config", cfg, "--db", lite}, args...)...)
		if code != 0 {
			t.Fatalf("%v on SQLite: %s", args, errA)
		}
		code, b, errB := runCLI(t, append([]string{"--config", cfg, "--db", url}, args...)...)
		if code != 0 {
			t.Fatalf("%v on PostgreSQL: %s", args, errB)
		}
		if a != b {
			t.Errorf("%v differs:\nSQLite:\n%s\nPostgreSQL:\n%s", args, head(a, 40), head(b, 40))
		}
		return a
	}
	orders := same("orders", "list", "--all", "--json")
	same("orders", "list", "--status", "paid", "--channel", "wechat")
	same("notify", "list", "--limit", "100000", "--json")
	same("notify", "list", "--failed")
	var findings int
	for _, id := range runs {
		shown := same("recon", "show", id, "--json")
		var run struct{ Findings []store.Finding }
		if err := json.Unmarshal([]byte(shown), &run); err != nil {
			t.Fatal(err)
		}
		findings += len(run.Findings)
	}
	if strings.Count(orders, `"out_trade_no"`) < 6*demoCopyOrdersPerDay || findings == 0 {
		t.Fatalf("the demo has %d orders and %d findings: too few to compare", strings.Count(orders, `"out_trade_no"`), findings)
	}

	// The console on each database shows the same screens: the orders, and
	// the reconciliation of yesterday's Alipay bill. Only the workspace in
	// the header differs.
	consoleLite := consoleScreens(t, dir, cfg, lite)
	consolePG := consoleScreens(t, dir, cfg, url)
	for i := range consoleLite {
		if consoleLite[i] != consolePG[i] {
			t.Errorf("console screen %d differs:\nSQLite:\n%s\nPostgreSQL:\n%s", i, consoleLite[i], consolePG[i])
		}
	}

	// Reconciling again on the copy (the kept bills are where their rows
	// say) finds what the SQLite run found.
	for i, ch := range []string{"alipay", "wechat"} {
		_, before, _ := runCLI(t, "--config", cfg, "--db", lite, "recon", "show", runs[i], "--json")
		code, after, errOut := runCLI(t, "--config", cfg, "--db", url, "recon", "run", "--channel", ch, "--date", day, "--json")
		if code != 0 {
			t.Fatalf("recon run %s on PostgreSQL: %s", ch, errOut)
		}
		if a, b := findingKeys(t, before), findingKeys(t, after); a != b {
			t.Errorf("%s: the run on the copy found\n%s\nthe SQLite run\n%s", ch, b, a)
		}
	}
}

// findingKeys lists a run's findings by what they are about, without ids.
func findingKeys(t *testing.T, runJSON string) string {
	t.Helper()
	var run struct{ Findings []store.Finding }
	if err := json.Unmarshal([]byte(runJSON), &run); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, f := range run.Findings {
		fmt.Fprintf(&b, "%s %s %s %s %s %s\n", f.Category, f.Kind, f.OutTradeNo, f.OutRequestNo, f.LocalAmount, f.PlatformAmount)
	}
	return b.String()
}

func head(s string, lines int) string {
	l := strings.Split(s, "\n")
	if len(l) > lines {
		l = append(l[:lines], "…")
	}
	return strings.Join(l, "\n")
}

// consoleScreens opens the console on db in tmux and returns the Orders
// and Reconcile screens without their header line (the workspace and the
// clock).
func consoleScreens(t *testing.T, dir, cfg, db string) []string {
	t.Helper()
	term := startTmux(t, t.TempDir(), e2eEnv(dir))
	term.typeLine(paydeskCommand("--config", cfg, "--db", db))
	term.waitMatch(screenTimeout, regexp.MustCompile(`all orders · 1 of [\d,]+ orders`))
	orders := term.last
	term.key("2")
	term.waitMatch(screenTimeout, regexp.MustCompile(`run \d+ by demo`))
	reconcile := term.last
	quitAndCheckTerminal(t, term)
	var out []string
	for _, s := range []string{orders, reconcile} {
		_, body, _ := strings.Cut(s, "\n")
		out = append(out, body)
	}
	return out
}
