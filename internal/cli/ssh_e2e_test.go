package cli

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/internal/testkit"
	"github.com/paydesk/paydesk/store"
)

// TestSSHConsoleEndToEnd runs the real binary as `paydesk serve` with
// [ssh] listen set, and logs in with OpenSSH's own `ssh` client in a tmux
// terminal, as li.na (support) from her laptop would: she filters the
// orders, finds one by its number, refunds part of it through the
// confirmation, sees her refund in the audit log, and quits. The database
// afterwards has the refund, audited under her name, via ssh, from her
// address.
func TestSSHConsoleEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs paydesk serve and OpenSSH's client in tmux")
	}
	sshBin, err := exec.LookPath("ssh")
	if err != nil {
		t.Skip("OpenSSH's client is not installed: the SSH console's end-to-end test logs in with it (apt-get install openssh-client)")
	}
	dir := t.TempDir()
	httpAddr, sshAddr := freeAddr(t), freeAddr(t)
	sb := testkit.StartSandbox(t, func(c *sandbox.Config) {
		c.NotifyURL = map[gateway.Channel]string{gateway.Alipay: "http://" + httpAddr + "/notify/alipay"}
	})
	if _, err := sb.WriteClientFiles(dir, "paydesk.db"); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(dir, "home")
	keyFile := filepath.Join(home, ".ssh", "id_ed25519")
	_, liNa := sshKeyPair(t, keyFile, "li.na@laptop")
	_, wang := sshKeyPair(t, "", "wang.wei@laptop")
	cfg := filepath.Join(dir, "paydesk.toml")
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, `
[operator]
name = "ops"
role = "admin"

[ssh]
listen = %q
host_key_file = "keys/ssh_host_ed25519"
idle_timeout = "10m"

[[ssh.users]]
name = "li.na"
role = "support"
public_keys = [%q]

[[ssh.users]]
name = "wang.wei"
role = "viewer"
public_keys = [%q]
`, sshAddr, liNa, wang)
	f.Close()

	// Three paid Alipay orders, paid through the platform's callback.
	nos := []string{"PD20261122SSHA01", "PD20261122SSHB02", "PD20261122SSHC03"}
	var csv strings.Builder
	csv.WriteString("out_trade_no,channel,amount,created_at,subject\n")
	for i, no := range nos {
		fmt.Fprintf(&csv, "%s,alipay,%d.00,%s,e2e order\n", no, 20+i, time.Now().Add(-time.Hour).Format(time.RFC3339))
	}
	orders := filepath.Join(dir, "orders.csv")
	if err := os.WriteFile(orders, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCLI(t, "--config", cfg, "orders", "import", orders); code != 0 {
		t.Fatalf("import: %s", errOut)
	}
	logPath := filepath.Join(dir, "serve.log")
	srv := paydeskProcess(t, logPath, "--config", cfg, "serve", "--listen", httpAddr)
	waitHealthy(t, httpAddr)
	waitListening(t, sshAddr)
	for i, no := range nos {
		if _, err := sb.CreateTrade(sandbox.TradeSpec{Channel: gateway.Alipay, OutTradeNo: no, Amount: gateway.Money((20 + i) * 100), Subject: "e2e order"}); err != nil {
			t.Fatal(err)
		}
		if _, err := sb.Pay(gateway.Alipay, no, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := sb.WaitDelivered(ctx); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "keys", "ssh_host_ed25519")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the host key made on first start: %v %v", fi, err)
	}

	// li.na logs in with OpenSSH, knowing no host key yet (she accepts
	// the new one, as on a first connection).
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(sshAddr)
	term := startTmux(t, dir, e2eEnv(dir))
	term.typeLine(strings.Join([]string{shellQuote(sshBin), "-t", "-F", "/dev/null", "-p", port, "-i", shellQuote(keyFile),
		"-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "StrictHostKeyChecking=accept-new",
		"-o", "UserKnownHostsFile=" + shellQuote(filepath.Join(home, ".ssh", "known_hosts")), "li.na@" + host}, " "))
	term.waitText(screenTimeout, "li.na (support)", "[1 Orders]", nos[0])

	// Filter: the paid orders, then one by the number a customer reads out.
	term.key("/")
	term.waitFor("the filter line", screenTimeout, func(s string) bool { return strings.HasPrefix(lineAt(s, 2), "/ ") })
	term.typeText("status:paid")
	term.waitText(screenTimeout, "/ status:paid")
	term.key("Enter")
	term.waitText(screenTimeout, "filter: status:PAID · 1 of 3 orders")
	no := nos[1]
	term.filterByNumber("status:PAID", no)

	// Refund ¥1.00 of it.
	term.key("Enter")
	term.waitText(screenTimeout, "Order "+no, "Status       PAID")
	term.refundOneYuan(no, "e2e over ssh")
	term.waitText(screenTimeout, "Status       PARTIALLY_REFUNDED")

	// Her refund in the audit log, under her name, via ssh.
	term.key("Escape")
	term.waitText(screenTimeout, "filter: "+no)
	term.key("5")
	term.waitText(screenTimeout, "[5 Audit]")
	term.waitFor("her refund at the top of the audit log", screenTimeout, func(s string) bool {
		r := selectedRow(s)
		return strings.Contains(r, "li.na@ssh") && strings.Contains(r, "refund")
	})
	term.key("Enter")
	term.waitMatch(screenTimeout, regexp.MustCompile(`Via       ssh 127\.0\.0\.1:\d+`))
	quitAndCheckTerminal(t, term)
	term.waitText(screenTimeout, "Connection to "+host+" closed")

	// The endpoint and the console stop together on SIGINT.
	if err := srv.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := srv.Wait(); err != nil {
		t.Errorf("paydesk serve after SIGINT: %v", err)
	}
	logs, _ := os.ReadFile(logPath)
	for _, want := range []string{`"msg":"ssh host key created"`, `"msg":"ssh session started","user":"li.na","role":"support"`, `"how":"quit"`} {
		if !strings.Contains(string(logs), want) {
			t.Errorf("the server log lacks %s:\n%s", want, logs)
		}
	}

	st, err := store.Open(filepath.Join(dir, "paydesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	o, err := st.GetOrder(context.Background(), no)
	if err != nil || o.Refunded != 100 || o.Status != store.OrderPartiallyRefunded {
		t.Errorf("order %s: refunded %s, %s (%v)", no, o.Refunded.Yuan(), o.Status, err)
	}
	rs, _ := st.ListRefunds(context.Background(), store.RefundFilter{OutTradeNo: no}, 0, 10)
	if len(rs) != 1 || rs[0].Operator != "li.na" || rs[0].Status != gateway.RefundSuccess {
		t.Errorf("refunds of %s: %+v", no, rs)
	}
	es, _ := st.ListAudit(context.Background(), store.AuditFilter{Action: "refund", Target: no}, 0, 10)
	if len(es) != 1 || es[0].Operator != "li.na" || es[0].Role != "support" || !regexp.MustCompile(`^ssh 127\.0\.0\.1:\d+$`).MatchString(es[0].Via) {
		t.Errorf("audit of the refund: %+v", es)
	}
	// The command line shows it too.
	code, out, _ := runCLI(t, "--config", cfg, "orders", "show", no)
	if code != 0 || !regexp.MustCompile(`refund by li\.na via ssh 127\.0\.0\.1:\d+: ok`).MatchString(out) {
		t.Errorf("orders show %s:\n%s", no, out)
	}
}

// waitListening waits until something accepts TCP connections at addr.
func waitListening(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("nothing listens on %s", addr)
}
