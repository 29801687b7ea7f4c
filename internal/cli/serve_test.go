package cli

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/internal/dbtest"
	"github.com/paydesk/paydesk/internal/testkit"
	"github.com/paydesk/paydesk/store"
)

// The test binary doubles as the paydesk binary: with this variable set it
// runs paydesk's main instead of the tests, so a test can start `paydesk
// serve` as a real process (and kill it) without a separate build.
const runMainEnv = "PAYDESK_TEST_RUN_MAIN"

// umaskEnv sets the child's umask (octal), so a test can show that the
// files paydesk creates are private whatever the umask.
const umaskEnv = "PAYDESK_TEST_UMASK"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		if m, err := strconv.ParseUint(os.Getenv(umaskEnv), 8, 32); err == nil {
			syscall.Umask(int(m))
		}
		// As main.go: SIGINT and SIGTERM end the context, so a test can
		// stop a child paydesk the way an operator or systemd does.
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	// A developer's own workspace must not leak into the tests, which
	// name theirs with --config and --db.
	for _, v := range []string{"PAYDESK_CONFIG", "PAYDESK_DB", "PAYDESK_OPERATOR"} {
		os.Unsetenv(v)
	}
	os.Exit(dbtest.Run(m, func(dsn string) error {
		st, err := store.Open(dsn)
		if err != nil {
			return err
		}
		return st.Close()
	}))
}

// paydeskExec is paydesk with args, as a child process to start.
func paydeskExec(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	return cmd
}

// paydeskProcess starts paydesk with args as a child process.
func paydeskProcess(t *testing.T, logPath string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := paydeskExec(args...)
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logf.Close() })
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_, _ = cmd.Process.Wait()
	})
	return cmd
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitHealthy(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("serve on %s never became healthy", addr)
}

// TestServeSurvivesKillDashNine kills a real `paydesk serve` process in
// the middle of a storm of deliveries and starts it again. The sandbox
// retries whatever was not acknowledged; at the end every paid trade is PAID
// locally exactly once, and every acknowledged notification is stored.
func TestServeSurvivesKillDashNine(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes")
	}
	dir := t.TempDir()
	addr := freeAddr(t)
	retries := []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond,
		800 * time.Millisecond, time.Second, time.Second, 2 * time.Second, 2 * time.Second, 3 * time.Second}
	sb := testkit.StartSandbox(t, func(c *sandbox.Config) {
		c.RetryDelays = map[gateway.Channel][]time.Duration{gateway.Alipay: retries, gateway.WeChat: retries}
		c.NotifyURL = map[gateway.Channel]string{gateway.Alipay: "http://" + addr + "/notify/alipay", gateway.WeChat: "http://" + addr + "/notify/wechat"}
		c.DeliveryTimeout = 2 * time.Second
	})
	if _, err := sb.WriteClientFiles(dir, "paydesk.db"); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "paydesk.toml")
	f, _ := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	fmt.Fprintf(f, "\n[operator]\nname = \"ops\"\nrole = \"admin\"\n")
	f.Close()

	const n = 400
	var csv strings.Builder
	csv.WriteString("out_trade_no,channel,amount,created_at\n")
	for i := range n {
		ch := "alipay"
		if i%2 == 1 {
			ch = "wechat"
		}
		fmt.Fprintf(&csv, "PDKILL%05d,%s,%d.%02d,%s\n", i, ch, 1+i%50, i%100, time.Now().Format(time.RFC3339))
	}
	orders := filepath.Join(dir, "orders.csv")
	os.WriteFile(orders, []byte(csv.String()), 0o600)
	if code, _, errOut := runCLI(t, "--config", cfg, "orders", "import", orders); code != 0 {
		t.Fatalf("import: %s", errOut)
	}

	logPath := filepath.Join(dir, "serve.log")
	serve := paydeskProcess(t, logPath, "--config", cfg, "serve", "--listen", addr)
	waitHealthy(t, addr)

	var wg sync.WaitGroup
	wg.Add(1)
	killed := make(chan struct{})
	go func() {
		defer wg.Done()
		for i := range n {
			ch := gateway.Alipay
			if i%2 == 1 {
				ch = gateway.WeChat
			}
			no := fmt.Sprintf("PDKILL%05d", i)
			amount, _ := gateway.ParseMoney(fmt.Sprintf("%d.%02d", 1+i%50, i%100))
			if _, err := sb.CreateTrade(sandbox.TradeSpec{Channel: ch, OutTradeNo: no, Amount: amount}); err != nil {
				t.Error(err)
				return
			}
			if _, err := sb.Pay(ch, no, time.Time{}); err != nil {
				t.Error(err)
				return
			}
			if i == n/3 {
				close(killed)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	<-killed
	// SIGKILL: no shutdown, no flush, whatever was in flight is cut.
	if err := serve.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_, _ = serve.Process.Wait()
	time.Sleep(300 * time.Millisecond)
	paydeskProcess(t, logPath, "--config", cfg, "serve", "--listen", addr)
	waitHealthy(t, addr)
	wg.Wait()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := sb.WaitDelivered(ctx); err != nil {
		t.Fatal(err)
	}
	acked := 0
	for _, d := range sb.Deliveries() {
		if !d.Acked {
			t.Errorf("never acknowledged: %+v", d)
		}
		acked++
	}

	st, err := store.Open(filepath.Join(dir, "paydesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	paid, _ := st.CountOrders(ctx, store.OrderFilter{Status: store.OrderPaid})
	if paid != n {
		t.Fatalf("%d of %d paid trades are PAID locally", paid, n)
	}
	list, err := st.ListNotifications(ctx, store.NotificationFilter{}, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	// Per order: one payment applied; where the kill fell between applying
	// and recording, the restarted endpoint finished the stored
	// notification (as DUPLICATE: the payment had landed) before listening.
	applied := map[string]int{}
	pending := 0
	for _, nt := range list {
		switch nt.ApplyStatus {
		case store.ApplyApplied:
			applied[nt.OutTradeNo]++
		case store.ApplyPending:
			pending++
		}
	}
	if pending != 0 {
		t.Fatalf("%d notifications left undecided after the restart", pending)
	}
	if len(list) < acked {
		t.Fatalf("%d notifications stored but %d deliveries acknowledged: an acknowledged one is missing", len(list), acked)
	}
	cut := 0
	for i := range n {
		no := fmt.Sprintf("PDKILL%05d", i)
		if applied[no] > 1 {
			t.Fatalf("%s applied %d times", no, applied[no])
		}
		if applied[no] == 0 {
			cut++
		}
		o, err := st.GetOrder(ctx, no)
		if err != nil || o.Status != store.OrderPaid || o.PaidVia != store.ViaNotify {
			t.Fatalf("%s: %+v %v", no, o, err)
		}
		if d, _ := st.DuplicatePayments(ctx, no); len(d) != 0 {
			t.Fatalf("%s has %d duplicate payments", no, len(d))
		}
	}
	t.Logf("%d deliveries acknowledged, %d notifications stored, %d payments whose record the kill cut (finished on restart)", acked, len(list), cut)
}
