package cli

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/internal/dbtest"
	"github.com/paydesk/paydesk/internal/testkit"
	"github.com/paydesk/paydesk/store"
)

// Several `serve` processes on one PostgreSQL, as behind a load balancer:
// real processes (this test binary re-executed as paydesk), a real
// PostgreSQL (internal/dbtest), a round-robin proxy in front of them, and
// the sandbox delivering through it with the platforms' retries.

// roundRobin is a minimal load balancer: each request goes to the next
// backend in turn. A dead backend answers 502 through it, which the
// platform takes as "send again", and the next attempt goes to the next
// backend: what a real balancer without health checks does.
func roundRobin(t *testing.T, backends ...string) string {
	t.Helper()
	var next atomic.Uint64
	proxies := make([]*httputil.ReverseProxy, len(backends))
	for i, b := range backends {
		u, err := url.Parse("http://" + b)
		if err != nil {
			t.Fatal(err)
		}
		proxies[i] = httputil.NewSingleHostReverseProxy(u)
		proxies[i].ErrorLog = nil
		proxies[i].ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) { w.WriteHeader(http.StatusBadGateway) }
	}
	addr := freeAddr(t)
	srv := &http.Server{Addr: addr, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxies[next.Add(1)%uint64(len(proxies))].ServeHTTP(w, r)
	})}
	go func() { _ = srv.ListenAndServe() }()
	t.Cleanup(func() { srv.Close() })
	return "http://" + addr
}

// replicaWorkspace writes the sandbox's client files and an admin operator
// into a folder; the commands name the database with --db.
func replicaWorkspace(t *testing.T, sb *sandbox.Server) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := sb.WriteClientFiles(dir, "unused.db"); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "paydesk.toml")
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "\n[operator]\nname = \"ops\"\nrole = \"admin\"\n")
	f.Close()
	return cfg
}

func importOrders(t *testing.T, cfg, db, prefix string, n int, amount func(i int) string) {
	t.Helper()
	var csv strings.Builder
	csv.WriteString("out_trade_no,channel,amount,created_at\n")
	for i := range n {
		fmt.Fprintf(&csv, "%s%05d,%s,%s,%s\n", prefix, i, channelOf(i), amount(i), time.Now().Format(time.RFC3339))
	}
	p := filepath.Join(filepath.Dir(cfg), prefix+"orders.csv")
	if err := os.WriteFile(p, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCLI(t, "--config", cfg, "--db", db, "orders", "import", p); code != 0 {
		t.Fatalf("import: %s", errOut)
	}
}

func channelOf(i int) gateway.Channel {
	if i%2 == 1 {
		return gateway.WeChat
	}
	return gateway.Alipay
}

// TestTwoServeProcessesOnOnePostgres: payments each delivered three times at
// once, the copies spread over two `serve` processes on one PostgreSQL; one
// process is killed with SIGKILL mid-storm. The platform's retries reach
// the other: every order is PAID exactly once, every acknowledged delivery
// is stored. A replacement process started afterwards finishes what the
// killed one had stored and not decided, while the survivor runs on.
func TestTwoServeProcessesOnOnePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes")
	}
	db := dbtest.PostgresDB(t)
	n := replicaStormPayments
	retries := []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond,
		800 * time.Millisecond, time.Second, time.Second, 2 * time.Second, 2 * time.Second, 3 * time.Second, 3 * time.Second, 3 * time.Second}
	a, b := freeAddr(t), freeAddr(t)
	lb := roundRobin(t, a, b)
	sb := testkit.StartSandbox(t, func(c *sandbox.Config) {
		c.RetryDelays = map[gateway.Channel][]time.Duration{gateway.Alipay: retries, gateway.WeChat: retries}
		c.NotifyURL = map[gateway.Channel]string{gateway.Alipay: lb + "/notify/alipay", gateway.WeChat: lb + "/notify/wechat"}
		c.DeliveryTimeout = 20 * time.Second
	})
	sb.SetFault(gateway.Alipay, "", sandbox.Fault{DuplicateNotify: 2})
	sb.SetFault(gateway.WeChat, "", sandbox.Fault{DuplicateNotify: 2})
	cfg := replicaWorkspace(t, sb)
	amount := func(i int) string { return fmt.Sprintf("%d.%02d", 1+i%50, i%100) }
	importOrders(t, cfg, db, "PDLB", n, amount)

	logs := filepath.Join(filepath.Dir(cfg), "serve.log")
	serveA := paydeskProcess(t, logs, "--config", cfg, "--db", db, "serve", "--listen", a)
	paydeskProcess(t, logs, "--config", cfg, "--db", db, "serve", "--listen", b)
	waitHealthy(t, a)
	waitHealthy(t, b)

	killed := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range n {
			no := fmt.Sprintf("PDLB%05d", i)
			m, _ := gateway.ParseMoney(amount(i))
			if _, err := sb.CreateTrade(sandbox.TradeSpec{Channel: channelOf(i), OutTradeNo: no, Amount: m}); err != nil {
				t.Error(err)
				return
			}
			if _, err := sb.Pay(channelOf(i), no, time.Time{}); err != nil {
				t.Error(err)
				return
			}
			if i == n/3 {
				close(killed)
			}
			time.Sleep(time.Millisecond)
		}
	}()
	<-killed
	if err := serveA.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_, _ = serveA.Process.Wait()
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := sb.WaitDelivered(ctx); err != nil {
		t.Fatal(err)
	}
	acked, attempts := 0, 0
	for _, d := range sb.Deliveries() {
		if !d.Acked {
			t.Errorf("never acknowledged: %+v", d)
		}
		acked++
		attempts += d.Attempts
	}
	if acked != 3*n {
		t.Fatalf("%d deliveries; want %d (each payment three times)", acked, 3*n)
	}

	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	check := func(when string) (pending int) {
		t.Helper()
		list, err := st.ListNotifications(ctx, store.NotificationFilter{}, 0, 100000)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) < acked || len(list) > attempts {
			t.Fatalf("%s: %d notifications stored; want every acknowledged delivery (%d) and no more than the %d attempts", when, len(list), acked, attempts)
		}
		applied := map[string]int{}
		for _, nt := range list {
			switch nt.ApplyStatus {
			case store.ApplyApplied:
				applied[nt.OutTradeNo]++
			case store.ApplyPending:
				pending++
			case store.ApplyDuplicate:
			default:
				t.Errorf("%s: notification %d of %s is %s: %s", when, nt.ID, nt.OutTradeNo, nt.ApplyStatus, nt.ApplyDetail)
			}
		}
		for i := range n {
			no := fmt.Sprintf("PDLB%05d", i)
			if applied[no] != 1 {
				t.Fatalf("%s: %s applied %d times", when, no, applied[no])
			}
		}
		return pending
	}
	paid, _ := st.CountOrders(ctx, store.OrderFilter{Status: store.OrderPaid})
	if paid != n {
		t.Fatalf("%d of %d paid trades are PAID", paid, n)
	}
	for i := range n {
		no := fmt.Sprintf("PDLB%05d", i)
		if d, _ := st.DuplicatePayments(ctx, no); len(d) != 0 {
			t.Fatalf("%s has %d duplicate payments", no, len(d))
		}
	}
	left := check("after the storm")

	// A replacement for the killed process: on start it finishes what the
	// killed one stored and never decided (as DUPLICATE: the other copies
	// were applied by the survivor), and nothing of the survivor's.
	c := freeAddr(t)
	paydeskProcess(t, logs, "--config", cfg, "--db", db, "serve", "--listen", c)
	waitHealthy(t, c)
	if pending := check("after the replacement started"); pending != 0 {
		t.Fatalf("%d notifications still undecided after a replacement started", pending)
	}
	t.Logf("%d payments × 3 over two serve processes, one killed: %d deliveries acknowledged in %d attempts; %d callbacks the killed process left undecided, finished by its replacement",
		n, acked, attempts, left)
}

// TestConcurrentRefundsThroughSeveralProcesses: twenty `paydesk refund`
// processes at once, on one PostgreSQL, ask ¥7.00 each of a ¥100.00
// order: fourteen refund, six are refused before anything reaches the
// platform, and neither side ever holds more than was paid.
func TestConcurrentRefundsThroughSeveralProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	db := dbtest.PostgresDB(t)
	sb := testkit.StartSandbox(t)
	cfg := replicaWorkspace(t, sb)
	importOrders(t, cfg, db, "PDRF", 1, func(int) string { return "100.00" })
	const no = "PDRF00000"
	if _, err := sb.CreateTrade(sandbox.TradeSpec{Channel: gateway.Alipay, OutTradeNo: no, Amount: 10000}); err != nil {
		t.Fatal(err)
	}
	if _, err := sb.Pay(gateway.Alipay, no, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCLI(t, "--config", cfg, "--db", db, "query", no); code != 0 {
		t.Fatalf("query: %s %s", out, errOut)
	}
	dir := filepath.Dir(cfg)
	procs := make([]*processResult, 20)
	var wg sync.WaitGroup
	for i := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			procs[i] = runProcess(t, filepath.Join(dir, fmt.Sprintf("refund-%d.log", i)),
				"--config", cfg, "--db", db, "refund", no, "--amount", "7.00", "--reason", fmt.Sprint("customer ", i), "--yes")
		}()
	}
	wg.Wait()
	ok, refused := 0, 0
	for i, p := range procs {
		switch {
		case p.code == 0:
			ok++
		// Refused by ops' first look at the ceiling, or by the store's
		// check inside the transaction that would have recorded it.
		case strings.Contains(p.output, "is more than the refundable"), strings.Contains(p.output, "refund exceeds the refundable amount"):
			refused++
		default:
			t.Errorf("refund process %d: exit %d: %s", i, p.code, p.output)
		}
	}
	if ok != 14 || refused != 6 {
		t.Fatalf("%d refunds made, %d refused; want 14 and 6", ok, refused)
	}
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	o, err := st.GetOrder(ctx, no)
	if err != nil || o.Refunded != 9800 || o.Status != store.OrderPartiallyRefunded {
		t.Fatalf("order after the refunds: %+v %v", o, err)
	}
	rs, _ := st.ListRefunds(ctx, store.RefundFilter{OutTradeNo: no}, 0, 100)
	var sum gateway.Money
	for _, r := range rs {
		if r.Status != gateway.RefundSuccess {
			t.Errorf("refund %s is %s", r.OutRequestNo, r.Status)
		}
		sum += r.Amount
	}
	tr, _ := sb.Trade(gateway.Alipay, no)
	succeeded, pending := tr.Refunded()
	if len(rs) != 14 || sum != 9800 || succeeded != 9800 || pending != 0 || len(tr.Refunds) != 14 {
		t.Fatalf("paydesk holds %d refunds of %s; the platform %d of %s (+%s pending)", len(rs), sum, len(tr.Refunds), succeeded, pending)
	}
}

type processResult struct {
	code   int
	output string
}

// runProcess runs paydesk as a child process to its end.
func runProcess(t *testing.T, logPath string, args ...string) *processResult {
	cmd := paydeskExec(args...)
	out, err := cmd.CombinedOutput()
	_ = os.WriteFile(logPath, out, 0o600)
	r := &processResult{output: string(out)}
	if err != nil {
		r.code = cmd.ProcessState.ExitCode()
		if r.code == 0 {
			r.code = -1
		}
	}
	return r
}
