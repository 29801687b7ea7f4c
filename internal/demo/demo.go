// Package demo owns the first-run experience: a fresh workspace (SQLite
// file and keys in a folder of its own), both simulated platforms running
// in-process on loopback, the real notification endpoint they deliver to,
// and about three business days of orders paid through them, with the
// faults a payments team meets in real life. Everything goes through the
// real code paths — the demo is data, not special cases.
package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/internal/config"
	"github.com/paydesk/paydesk/internal/serve"
	"github.com/paydesk/paydesk/internal/workspace"
	"github.com/paydesk/paydesk/ops"
)

// Options shape a demo.
type Options struct {
	// Dir is the workspace folder; empty makes a fresh one under the user
	// cache folder (or the temp folder).
	Dir string
	// OrdersPerDay per channel; default 300 (1,800 orders over three days).
	OrdersPerDay int
	// Seed makes the data repeatable; 0 derives it from the date.
	Seed uint64
	// Logger receives the platforms' and the endpoint's logs; nil writes
	// them to paydesk.log in the workspace, out of the console's way.
	Logger *slog.Logger
	// Progress hears what the bootstrap is doing.
	Progress func(step string)
	// WeChatAPI "v2" makes the WeChat merchant a v2-only one: XML
	// callbacks, and queries, refunds (mutual TLS) and bills through v2.
	WeChatAPI string
}

// Demo is a running demo workspace.
type Demo struct {
	Dir       string
	Workspace *workspace.Workspace
	Sandbox   *sandbox.Server
	ServeURL  string
	// Faults are the faults seeded, with where each must show.
	Faults []Fault
	// Yesterday is the business day whose reconciliation is ready to run.
	Yesterday time.Time

	stopServe context.CancelFunc
	served    chan error
	logFile   *os.File
	// platformTransport carries the workspace's platform calls; Close
	// closes its idle connections first, or the sandbox, shutting down
	// gracefully, would wait on a spare one that never carried a request.
	platformTransport *http.Transport
}

// Service is the demo's operations service (operator "demo", admin).
func (d *Demo) Service() *ops.Service { return d.Workspace.Service }

// Start builds and seeds a demo workspace and leaves its platforms and
// endpoint running until Close.
func Start(ctx context.Context, opt Options) (d *Demo, err error) {
	if opt.Progress == nil {
		opt.Progress = func(string) {}
	}
	if opt.OrdersPerDay <= 0 {
		opt.OrdersPerDay = 300
	}
	dir := opt.Dir
	if dir == "" {
		if dir, err = freshDir(); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	d = &Demo{Dir: dir}
	// The deferred cleanup holds its own reference: `return nil, err`
	// sets d to nil before deferred functions run.
	started := d
	if opt.Logger == nil {
		f, err := os.OpenFile(filepath.Join(dir, "paydesk.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, err
		}
		d.logFile = f
		opt.Logger = slog.New(gateway.MaskLogs(slog.NewTextHandler(f, nil)))
	}
	defer func() {
		if err != nil {
			started.Close()
			d = nil
		}
	}()

	opt.Progress("generating platform and merchant keys")
	keys, err := sandbox.GenerateKeys()
	if err != nil {
		return nil, err
	}
	// The seeding back-dates platform events (refunds on past days) by
	// setting this clock; afterwards the sandbox runs on the wall clock.
	var clock atomic.Pointer[time.Time]
	// Short retries: the demo's failing callbacks give up within a fifth of
	// a second instead of the platforms' day. The seeding waits for them to
	// run out (the late order must arrive after its callback has finally
	// failed), so this schedule is on the first run's path to the console:
	// at 0.2 s, 0.5 s, 1 s it cost close to 2 s of a 10 s budget.
	fast := []time.Duration{20 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond}
	d.Sandbox, err = sandbox.New(sandbox.Config{
		Keys: keys, Logger: opt.Logger, Seed: opt.Seed, WeChatAPI: opt.WeChatAPI,
		RetryDelays: map[gateway.Channel][]time.Duration{gateway.Alipay: fast, gateway.WeChat: fast},
		Now: func() time.Time {
			if t := clock.Load(); t != nil {
				return *t
			}
			return time.Now()
		},
	})
	if err != nil {
		return nil, err
	}
	if err := d.Sandbox.Start("127.0.0.1:0"); err != nil {
		return nil, err
	}
	if _, err := d.Sandbox.WriteClientFiles(dir, "paydesk.db"); err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(dir, config.DefaultFile)
	if err := appendOperator(cfgPath); err != nil {
		return nil, err
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return nil, err
	}
	d.platformTransport = http.DefaultTransport.(*http.Transport).Clone()
	d.Workspace, err = workspace.Open(cfg, workspace.Options{Operator: "demo", Role: ops.Admin, Logger: opt.Logger,
		HTTPClient: &http.Client{Timeout: 30 * time.Second, Transport: d.platformTransport}})
	if err != nil {
		return nil, err
	}

	srv := serve.New(d.Workspace.Service, serve.Config{Listen: "127.0.0.1:0", Logger: opt.Logger})
	serveCtx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	d.stopServe, d.served = cancel, served
	ready := make(chan string, 1)
	go func() {
		// Not d.served: a failed Start has set d to nil by the time the
		// endpoint stops.
		served <- srv.ListenAndServe(serveCtx, 5*time.Second, func(addr string) { ready <- addr })
		close(ready)
	}()
	addr, ok := <-ready
	if !ok {
		return nil, fmt.Errorf("demo: the notification endpoint did not start: %w", <-d.served)
	}
	d.ServeURL = "http://" + addr
	d.Sandbox.SetNotifyURL(gateway.Alipay, d.ServeURL+"/notify/alipay")
	d.Sandbox.SetNotifyURL(gateway.WeChat, d.ServeURL+"/notify/wechat")

	today, _ := gateway.Day(time.Now().In(d.Workspace.Service.Zone()), d.Workspace.Service.Zone())
	d.Yesterday = today.AddDate(0, 0, -1)
	s := newSeeder(d, opt, &clock, today)
	if err := s.run(ctx); err != nil {
		return nil, fmt.Errorf("demo: seeding: %w", err)
	}
	d.Faults = s.faults
	return d, nil
}

// appendOperator makes the demo operator an admin in the written config.
func appendOperator(path string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(f, "\n[operator]\nname = \"demo\"\nrole = \"admin\"\n")
	return errors.Join(err, f.Close())
}

// freshDir makes a new workspace folder under the user cache folder.
func freshDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	base = filepath.Join(base, "paydesk")
	if err := os.MkdirAll(base, 0o700); err != nil {
		base = os.TempDir()
	}
	return os.MkdirTemp(base, "demo-"+time.Now().Format("20060102-150405")+"-")
}

// Close stops the endpoint and the platforms and closes the store. The
// workspace folder stays, so the data can be looked at afterwards.
func (d *Demo) Close() error {
	var errs []error
	if d.platformTransport != nil {
		d.platformTransport.CloseIdleConnections()
	}
	if d.Sandbox != nil {
		errs = append(errs, d.Sandbox.Close())
	}
	if d.stopServe != nil {
		d.stopServe()
		errs = append(errs, <-d.served)
	}
	if d.Workspace != nil {
		errs = append(errs, d.Workspace.Close())
	}
	if d.logFile != nil {
		errs = append(errs, d.logFile.Close())
	}
	return errors.Join(errs...)
}
