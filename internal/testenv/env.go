// Package testenv assembles a whole paydesk for tests: a sandbox with both
// platforms on a loopback port, a real SQLite store in a temp folder, the
// real platform clients pointed at the sandbox, the ops service, and (when
// asked) the notification endpoint on a loopback port that the sandbox
// delivers to. Nothing in it is a fake. The store is SQLite unless the test
// hands in a PostgreSQL database (Options.DB).
package testenv

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/internal/config"
	"github.com/paydesk/paydesk/internal/serve"
	"github.com/paydesk/paydesk/internal/testkit"
	"github.com/paydesk/paydesk/internal/workspace"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/store"
)

// Options shape an environment.
type Options struct {
	// DB is the store to open: an SQLite path or a PostgreSQL URL (see
	// internal/dbtest). Default: an SQLite file in the environment's folder.
	DB   string
	Role ops.Role // default admin
	// Operator names the service's operator in the audit log; default
	// "tester".
	Operator string
	// Channels are the platforms configured in paydesk (default both): a
	// merchant on Alipay alone configures only [alipay]. The sandbox
	// serves both either way.
	Channels []gateway.Channel
	// Serve starts the notification endpoint and points the sandbox at it.
	Serve bool
	// HTTPTimeout bounds platform calls (default 5 s); tests of unknown
	// outcomes shorten it.
	HTTPTimeout time.Duration
	Now         func() time.Time
	Sandbox     func(*sandbox.Config)
	// FeeRates are the contracted fee rates ([recon] fee_rate_*); none by
	// default.
	FeeRates map[gateway.Channel]gateway.FeeRate

	// WeChatAPI "v2" makes the merchant a WeChat v2-only one (XML
	// notifications; queries, refunds and bills through v2).
	WeChatAPI string
	// RefundQueryAfter is the service's [refund] query_after; zero means
	// none (tests retry at once unless they test the wait).
	RefundQueryAfter time.Duration
	// Config adjusts the paydesk.toml the sandbox wrote (keys, sign type,
	// notify URL), as a merchant would edit theirs, before the clients
	// are built from it.
	Config func(*sandbox.Server, *config.Config)
}

// Env is a running test environment.
type Env struct {
	Dir     string
	Sandbox *sandbox.Server
	Store   *store.Store
	Service *ops.Service
	// Platforms are the configured platforms' clients (Options.Channels).
	Platforms map[gateway.Channel]gateway.Platform
	ServeURL  string // empty unless Options.Serve
}

// New builds an environment and tears it down when the test ends.
func New(t testing.TB, opt Options) *Env {
	t.Helper()
	if opt.Role == "" {
		opt.Role = ops.Admin
	}
	if opt.HTTPTimeout == 0 {
		opt.HTTPTimeout = 5 * time.Second
	}
	if opt.Operator == "" {
		opt.Operator = "tester"
	}
	e := &Env{Dir: t.TempDir()}
	e.Sandbox = testkit.StartSandbox(t, func(c *sandbox.Config) {
		c.WeChatAPI = opt.WeChatAPI
		if opt.Sandbox != nil {
			opt.Sandbox(c)
		}
	})
	e.Platforms = PlatformsWith(t, e.Sandbox, &http.Client{Timeout: opt.HTTPTimeout}, opt.Config)
	if len(opt.Channels) > 0 {
		for ch := range e.Platforms {
			if !slices.Contains(opt.Channels, ch) {
				delete(e.Platforms, ch)
			}
		}
	}
	db := opt.DB
	if db == "" {
		db = filepath.Join(e.Dir, "paydesk.db")
	}
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	e.Store = st
	if opt.RefundQueryAfter == 0 {
		opt.RefundQueryAfter = -1
	}
	// Bills are held to the sandbox's merchants, as a configured paydesk
	// holds them to [wechat] mchid and [alipay] pid.
	merchants := map[gateway.Channel]string{}
	for ch := range e.Platforms {
		merchants[ch] = map[gateway.Channel]string{gateway.Alipay: e.Sandbox.AlipayPID(), gateway.WeChat: testkit.SandboxKeys(t).WeChatMchID}[ch]
	}
	svc, err := ops.New(ops.Options{Store: st, Platforms: e.Platforms, Operator: ops.Operator{Name: opt.Operator, Role: opt.Role}, Now: opt.Now,
		RefundQueryAfter: opt.RefundQueryAfter, Merchants: merchants, FeeRates: opt.FeeRates, BillsDir: filepath.Join(e.Dir, "bills")})
	if err != nil {
		t.Fatal(err)
	}
	e.Service = svc
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	if opt.Serve {
		ready := make(chan string, 1)
		srv := serve.New(svc, serve.Config{Listen: "127.0.0.1:0"})
		go func() {
			defer close(done)
			if err := srv.ListenAndServe(ctx, 5*time.Second, func(addr string) { ready <- addr }); err != nil {
				t.Errorf("serve: %v", err)
				ready <- ""
			}
		}()
		addr := <-ready
		e.ServeURL = "http://" + addr
		e.Sandbox.SetNotifyURL(gateway.Alipay, e.ServeURL+"/notify/alipay")
		e.Sandbox.SetNotifyURL(gateway.WeChat, e.ServeURL+"/notify/wechat")
	} else {
		close(done)
	}
	t.Cleanup(func() {
		// The sandbox stops delivering before the endpoint goes away.
		_ = e.Sandbox.Close()
		cancel()
		<-done
		st.Close()
	})
	return e
}

// Platforms builds the platform clients for a sandbox the way the CLI
// does: the sandbox writes the merchant's keys and a paydesk.toml (as a
// merchant downloads them from the platforms' consoles), config.Load reads
// them, and workspace.Platforms makes the real clients.
func Platforms(t testing.TB, sb *sandbox.Server, hc *http.Client) map[gateway.Channel]gateway.Platform {
	t.Helper()
	return PlatformsWith(t, sb, hc, nil)
}

// PlatformsWith is Platforms with the loaded config adjusted first.
func PlatformsWith(t testing.TB, sb *sandbox.Server, hc *http.Client, mutate func(*sandbox.Server, *config.Config)) map[gateway.Channel]gateway.Platform {
	t.Helper()
	dir := t.TempDir()
	files, err := sb.WriteClientFiles(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(filepath.Join(dir, files.Config))
	if err == nil && mutate != nil {
		mutate(sb, cfg)
	}
	if err != nil {
		t.Fatal(err)
	}
	zone, err := time.LoadLocation(cfg.Zone)
	if err != nil {
		t.Fatal(err)
	}
	p, err := workspace.Platforms(cfg, zone, hc)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// PubKeyOnly configures WeChat with the platform public key alone: a
// merchant in public-key mode, whatever the sandbox signs with.
func PubKeyOnly(sb *sandbox.Server, c *config.Config) {
	k := sb.Keys()
	c.WeChat.PlatformPublicKeyID, c.WeChat.PlatformPublicKey = k.WeChatPlatformKeyID, sandbox.PublicKeyPEM(&k.WeChatPlatformKey.PublicKey)
	c.WeChat.PlatformCerts, c.WeChat.PlatformCertDownload = nil, false
}

// CertDownload configures WeChat to download the platform certificates
// through /v3/certificates, with no public key and no certificate file.
func CertDownload(_ *sandbox.Server, c *config.Config) {
	c.WeChat.PlatformPublicKeyID, c.WeChat.PlatformPublicKey = "", nil
	c.WeChat.PlatformCerts, c.WeChat.PlatformCertDownload = nil, true
}

// Order is a local order to import.
type Order struct {
	OutTradeNo string
	Channel    gateway.Channel
	Amount     gateway.Money
	CreatedAt  time.Time
}

// ImportOrders imports PENDING orders through ops (a CSV file, the real
// import path).
func (e *Env) ImportOrders(t testing.TB, orders ...Order) {
	t.Helper()
	var b strings.Builder
	b.WriteString("out_trade_no,channel,amount,created_at,subject\n")
	for _, o := range orders {
		at := o.CreatedAt
		if at.IsZero() {
			at = time.Now()
		}
		fmt.Fprintf(&b, "%s,%s,%s,%s,test order\n", o.OutTradeNo, o.Channel, o.Amount, at.Format(time.RFC3339Nano))
	}
	p := filepath.Join(e.Dir, fmt.Sprintf("orders-%d.csv", time.Now().UnixNano()))
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Service.ImportOrders(context.Background(), p); err != nil {
		t.Fatal(err)
	}
}

// Pay creates a trade at the sandbox for a local order and pays it (the
// notification goes to the endpoint when Serve is on).
func (e *Env) Pay(t testing.TB, o Order, paidAt time.Time) *sandbox.Trade {
	t.Helper()
	if _, err := e.Sandbox.CreateTrade(sandbox.TradeSpec{Channel: o.Channel, OutTradeNo: o.OutTradeNo, Amount: o.Amount, Subject: "test order", CreatedAt: o.CreatedAt}); err != nil {
		t.Fatal(err)
	}
	tr, err := e.Sandbox.Pay(o.Channel, o.OutTradeNo, paidAt)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// WaitRefund polls the store until a refund has the status (as its
// notification, delivered in the background, makes it so) and returns it.
func (e *Env) WaitRefund(t testing.TB, outRequestNo string, want gateway.RefundStatus) store.Refund {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		f, err := e.Store.GetRefund(context.Background(), outRequestNo)
		if err == nil && f.Status == want {
			return f
		}
		if time.Now().After(deadline) {
			t.Fatalf("refund %s is %s (%v), want %s", outRequestNo, f.Status, err, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// WaitDelivered waits until the sandbox has no notification in flight.
func (e *Env) WaitDelivered(t testing.TB, within time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	if err := e.Sandbox.WaitDelivered(ctx); err != nil {
		t.Fatalf("notifications still in flight after %s: %v", within, err)
	}
}
