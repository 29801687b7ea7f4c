// Command notifyload measures the notification endpoint under load, from a
// second process on loopback: throughput and latency of intake with
// signature verification and durable apply, against the same handler with
// verification replaced by a lookup of the already verified result. It also
// checks that nothing was lost or applied twice. See bench/README.md.
//
//	notifyload prepare -dir D -n 20000     workspace, orders, signed notifications
//	notifyload serve   -dir D -db F [-verify=false] -listen ADDR
//	notifyload fire    -dir D -db F -url URL -c 64 [-client raw|net/http]
//	notifyload copy    -dir D -db postgres://…   the template's orders into PostgreSQL
//
// -db is an SQLite file or a PostgreSQL URL.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/internal/config"
	"github.com/paydesk/paydesk/internal/serve"
	"github.com/paydesk/paydesk/internal/workspace"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/store"
)

// capture is one notification as the platform sent it.
type capture struct {
	Channel gateway.Channel `json:"channel"`
	Header  http.Header     `json:"header"`
	Body    []byte          `json:"body"`
}

func main() {
	log.SetFlags(0)
	if len(os.Args) < 2 {
		log.Fatal("usage: notifyload prepare|serve|fire [flags]")
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	dir := fs.String("dir", "bench/out/notify", "work folder")
	n := fs.Int("n", 20000, "notifications (prepare)")
	db := fs.String("db", "", "database: SQLite file or postgres:// URL (serve, fire, copy)")
	verify := fs.Bool("verify", true, "verify signatures (serve)")
	listen := fs.String("listen", "127.0.0.1:18181", "address (serve)")
	url := fs.String("url", "http://127.0.0.1:18181", "endpoint (fire)")
	conc := fs.Int("c", 64, "concurrent senders (fire)")
	client := fs.String("client", "raw", "how fire sends: raw (requests serialized before the clock starts, one keep-alive connection per sender) or net/http (http.Client)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the endpoint here (serve)")
	memProfile := fs.String("memprofile", "", "write the endpoint's allocations here when it stops (serve)")
	_ = fs.Parse(os.Args[2:])
	var err error
	switch os.Args[1] {
	case "prepare":
		err = prepare(*dir, *n)
	case "serve":
		if *cpuProfile != "" {
			f, ferr := os.Create(*cpuProfile)
			if ferr != nil {
				log.Fatal(ferr)
			}
			_ = pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
		err = runServe(*dir, *db, *listen, *verify)
		if *memProfile != "" {
			if f, ferr := os.Create(*memProfile); ferr == nil {
				_ = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}
	case "fire":
		err = fire(*dir, *db, *url, *conc, *client)
	case "copy":
		err = copyTemplate(*dir, *db)
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		pprof.StopCPUProfile()
		log.Fatal(err)
	}
}

// prepare makes the workspace: keys and config from a sandbox, n pending
// orders in a template database, and the n signed payment notifications
// the sandbox sends when it pays them (captured, acknowledged).
func prepare(dir string, n int) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	keys, err := sandbox.GenerateKeys()
	if err != nil {
		return err
	}
	var mu sync.Mutex
	var caps []capture
	capSrv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ch := gateway.Alipay
		if strings.HasSuffix(r.URL.Path, "wechat") {
			ch = gateway.WeChat
		}
		mu.Lock()
		caps = append(caps, capture{Channel: ch, Header: r.Header.Clone(), Body: body})
		mu.Unlock()
		if ch == gateway.Alipay {
			_, _ = w.Write([]byte("success"))
		} else {
			w.WriteHeader(http.StatusNoContent)
		}
	})}
	ln, err := netListen()
	if err != nil {
		return err
	}
	go capSrv.Serve(ln)
	defer capSrv.Close()
	capURL := "http://" + ln.Addr().String()
	sb, err := sandbox.New(sandbox.Config{Keys: keys, NotifyURL: map[gateway.Channel]string{gateway.Alipay: capURL + "/alipay", gateway.WeChat: capURL + "/wechat"}})
	if err != nil {
		return err
	}
	if err := sb.Start("127.0.0.1:0"); err != nil {
		return err
	}
	defer sb.Close()
	if _, err := sb.WriteClientFiles(dir, "template.db"); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, "paydesk.toml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	fmt.Fprint(f, "\n[operator]\nname = \"bench\"\nrole = \"admin\"\n")
	f.Close()

	var csv strings.Builder
	csv.WriteString("out_trade_no,channel,amount,created_at\n")
	now := time.Now()
	for i := range n {
		ch := gateway.Channels[i%2]
		fmt.Fprintf(&csv, "PDLOAD%s%07d,%s,%d.%02d,%s\n", now.Format("0102150405"), i, ch, 1+i%300, i%100, now.Format(time.RFC3339))
	}
	ordersCSV := filepath.Join(dir, "orders.csv")
	if err := os.WriteFile(ordersCSV, []byte(csv.String()), 0o600); err != nil {
		return err
	}
	_ = os.Remove(filepath.Join(dir, "template.db"))
	ws, err := openWorkspace(dir, filepath.Join(dir, "template.db"))
	if err != nil {
		return err
	}
	if _, err := ws.Service.ImportOrders(context.Background(), ordersCSV); err != nil {
		return err
	}
	ws.Close()

	log.Printf("paying %d orders at the sandbox and capturing their notifications", n)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	for i := range n {
		// In batches, so no delivery waits long enough to be retried
		// (a retry would capture a second copy).
		if i%500 == 0 {
			if err := sb.WaitDelivered(ctx); err != nil {
				return err
			}
		}
		ch := gateway.Channels[i%2]
		no := fmt.Sprintf("PDLOAD%s%07d", now.Format("0102150405"), i)
		amount, _ := gateway.ParseMoney(fmt.Sprintf("%d.%02d", 1+i%300, i%100))
		if _, err := sb.CreateTrade(sandbox.TradeSpec{Channel: ch, OutTradeNo: no, Amount: amount}); err != nil {
			return err
		}
		if _, err := sb.Pay(ch, no, time.Time{}); err != nil {
			return err
		}
	}
	if err := sb.WaitDelivered(ctx); err != nil {
		return err
	}
	if len(caps) != n {
		return fmt.Errorf("captured %d notifications for %d payments", len(caps), n)
	}
	out, err := os.Create(filepath.Join(dir, "captures.jsonl"))
	if err != nil {
		return err
	}
	enc := json.NewEncoder(out)
	for _, c := range caps {
		if err := enc.Encode(c); err != nil {
			return err
		}
	}
	log.Printf("prepared %d notifications in %s (WeChat ones stay fresh for 5 minutes)", len(caps), dir)
	return out.Close()
}

// copyTemplate puts the template's orders into a fresh PostgreSQL database
// (store copy), so both engines start the run from the same rows.
func copyTemplate(dir, to string) error {
	src, err := store.Open(filepath.Join(dir, "template.db"))
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := store.Open(to)
	if err != nil {
		return err
	}
	defer dst.Close()
	_, err = src.CopyTo(context.Background(), dst, nil)
	return err
}

func openWorkspace(dir, db string) (*workspace.Workspace, error) {
	cfg, err := config.Load(filepath.Join(dir, "paydesk.toml"))
	if err != nil {
		return nil, err
	}
	return workspace.Open(cfg, workspace.Options{DBPath: db})
}

func loadCaptures(dir string) ([]capture, error) {
	b, err := os.ReadFile(filepath.Join(dir, "captures.jsonl"))
	if err != nil {
		return nil, err
	}
	var out []capture
	dec := json.NewDecoder(bytes.NewReader(b))
	for dec.More() {
		var c capture
		if err := dec.Decode(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// trusting is a platform whose VerifyNotification returns the result the
// real verification gave once beforehand, looked up by body: the same
// handler, store and apply, without the signature check and decryption.
type trusting struct {
	gateway.Platform
	verified map[[32]byte]gateway.Notification
}

func (t trusting) VerifyNotification(h http.Header, body []byte, at time.Time) (gateway.Notification, error) {
	if n, ok := t.verified[sha256.Sum256(body)]; ok {
		return n, nil
	}
	return gateway.Notification{}, gateway.ErrBadSignature
}

func runServe(dir, db, listen string, verify bool) error {
	cfg, err := config.Load(filepath.Join(dir, "paydesk.toml"))
	if err != nil {
		return err
	}
	ws, err := workspace.Open(cfg, workspace.Options{DBPath: db})
	if err != nil {
		return err
	}
	defer ws.Close()
	svc := ws.Service
	if !verify {
		platforms, err := workspace.Platforms(cfg, ws.Service.Zone(), nil)
		if err != nil {
			return err
		}
		caps, err := loadCaptures(dir)
		if err != nil {
			return err
		}
		wrapped := map[gateway.Channel]gateway.Platform{}
		for ch, p := range platforms {
			tp := trusting{Platform: p, verified: map[[32]byte]gateway.Notification{}}
			for _, c := range caps {
				if c.Channel != ch {
					continue
				}
				n, err := p.VerifyNotification(c.Header, c.Body, time.Now())
				if err != nil {
					return fmt.Errorf("a captured notification does not verify: %w", err)
				}
				tp.verified[sha256.Sum256(c.Body)] = n
			}
			wrapped[ch] = tp
		}
		if svc, err = ops.New(ops.Options{Store: ws.Store, Platforms: wrapped, Operator: ops.Operator{Name: "bench", Role: ops.Admin}}); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve.New(svc, serve.Config{Listen: listen}).ListenAndServe(ctx, 10*time.Second, func(addr string) {
		fmt.Println("ready", addr)
	})
}

func fire(dir, db, url string, conc int, client string) error {
	caps, err := loadCaptures(dir)
	if err != nil {
		return err
	}
	send := sendRaw
	switch client {
	case "raw":
	case "net/http":
		send = sendNetHTTP
	default:
		return fmt.Errorf("unknown -client %q (raw or net/http)", client)
	}
	lat, failed, elapsed, err := send(caps, url, conc)
	if err != nil {
		return err
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[int(float64(len(lat)-1)*p)] }
	fmt.Printf("notifications=%d concurrency=%d client=%s elapsed=%s rate=%.0f/s p50=%s p99=%s max=%s refused=%d\n",
		len(caps), conc, client, elapsed.Round(time.Millisecond), float64(len(caps))/elapsed.Seconds(),
		pct(0.50).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond), lat[len(lat)-1].Round(10*time.Microsecond), failed)

	st, err := store.Open(db)
	if err != nil {
		return err
	}
	defer st.Close()
	ctx := context.Background()
	paid, _ := st.CountOrders(ctx, store.OrderFilter{Status: store.OrderPaid})
	stored, _ := st.CountNotifications(ctx, store.NotificationFilter{})
	applied, _ := st.CountNotifications(ctx, store.NotificationFilter{Apply: store.ApplyApplied})
	fmt.Printf("stored=%d applied=%d paid_orders=%d lost=%d double_applied=%d\n", stored, applied, paid, len(caps)-stored, applied-paid)
	if stored != len(caps) || applied != len(caps) || paid != len(caps) {
		return fmt.Errorf("lost or double-applied notifications")
	}
	return nil
}
