package ui

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/paydesk/paydesk/internal/benchdata"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/store"
)

// The benchmarks run only under -bench (see bench/README.md):
//
//	go test ./ui -run '^$' -bench . -benchtime 1x
//
// They build a 10,000- and a 1,000,000-order store once per process.

var (
	benchStores = map[int]string{}
	benchMu     sync.Mutex
)

// benchService opens a store of n orders (built once per process) with a
// viewer-free admin service over it.
func benchService(b *testing.B, n int) *ops.Service {
	benchMu.Lock()
	path, ok := benchStores[n]
	if !ok {
		dir, err := os.MkdirTemp("", "paydesk-ui-bench-")
		if err != nil {
			b.Fatal(err)
		}
		path = filepath.Join(dir, "orders.db")
		st, err := store.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		r := rand.New(rand.NewPCG(1, 2))
		_, err = st.ImportOrders(context.Background(), benchdata.MonthStart, func(im *store.OrderImporter) error {
			for i := range n {
				if err := im.Insert(context.Background(), benchdata.Order(r, i)); err != nil {
					return err
				}
			}
			return nil
		})
		st.Close()
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("built a %d-order store in %s", n, time.Since(start).Round(time.Millisecond))
		benchStores[n] = path
	}
	benchMu.Unlock()
	st, err := store.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	svc, err := ops.New(ops.Options{Store: st, Operator: ops.Operator{Name: "bench", Role: ops.Admin}, Now: pinnedClock})
	if err != nil {
		b.Fatal(err)
	}
	return svc
}

func benchModel(b *testing.B, svc *ops.Service) *Model {
	return newModel(b, &fixture{svc: svc}, testOptions(), 100, 30)
}

// latencies collects per-key timings and reports their percentiles.
type latencies []time.Duration

func (l latencies) report(b *testing.B, name string) {
	if len(l) == 0 {
		return
	}
	s := slices.Clone(l)
	slices.Sort(s)
	pct := func(p float64) float64 {
		return float64(s[min(len(s)-1, int(float64(len(s))*p))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), name+"-p50-ms")
	b.ReportMetric(pct(0.99), name+"-p99-ms")
	b.ReportMetric(float64(s[len(s)-1].Microseconds())/1000, name+"-max-ms")
}

// press times one key press: Update and View ("frame": what the
// operator sees next), then runs the reads it started, as the program's
// goroutines would, and times until the frame shows their result
// ("settled").
func timedPress(b *testing.B, m *Model, k tea.Msg, frame, settled *latencies) {
	start := time.Now()
	_, cmd := m.Update(k)
	_ = m.View()
	*frame = append(*frame, time.Since(start))
	if cmd != nil {
		runCmd(b, m, cmd)
		_ = m.View()
	}
	*settled = append(*settled, time.Since(start))
}

var benchSizes = []int{10_000, 1_000_000}

// BenchmarkKeyToFrame: a key press to the rendered frame while scrolling
// row by row, paging, and filtering, at 10k and 1M orders. The target is
// frame p99 ≤ 5 ms.
func BenchmarkKeyToFrame(b *testing.B) {
	for _, n := range benchSizes {
		svc := benchService(b, n)
		b.Run(fmt.Sprintf("scroll/%d", n), func(b *testing.B) {
			var frame, settled latencies
			for b.Loop() {
				m := benchModel(b, svc)
				for range 3000 {
					timedPress(b, m, keyMsg("j"), &frame, &settled)
				}
				for range 1000 {
					timedPress(b, m, keyMsg("k"), &frame, &settled)
				}
			}
			frame.report(b, "frame")
			settled.report(b, "settled")
		})
		b.Run(fmt.Sprintf("page/%d", n), func(b *testing.B) {
			var frame, settled latencies
			for b.Loop() {
				m := benchModel(b, svc)
				for range 400 {
					timedPress(b, m, keyMsg("pgdown"), &frame, &settled)
				}
				for range 200 {
					timedPress(b, m, keyMsg("pgup"), &frame, &settled)
				}
				timedPress(b, m, keyMsg("G"), &frame, &settled)
				for range 50 {
					timedPress(b, m, keyMsg("pgup"), &frame, &settled)
				}
				timedPress(b, m, keyMsg("g"), &frame, &settled)
			}
			frame.report(b, "frame")
			settled.report(b, "settled")
		})
		b.Run(fmt.Sprintf("filter/%d", n), func(b *testing.B) {
			var frame, settled, apply latencies
			filters := []string{"status:pending", "channel:wechat 2026-10-05", "PD20261010", "refunded alipay", "2026-10-20..2026-10-21", "PD2026101512"}
			for b.Loop() {
				m := benchModel(b, svc)
				for _, f := range filters {
					timedPress(b, m, keyMsg("/"), &frame, &settled)
					for range len(m.orders().input.Value()) {
						timedPress(b, m, keyMsg("backspace"), &frame, &settled)
					}
					for _, k := range keys("text:" + f) {
						timedPress(b, m, k, &frame, &settled)
					}
					var applied latencies
					timedPress(b, m, keyMsg("enter"), &frame, &applied)
					apply = append(apply, applied...)
					for range 50 {
						timedPress(b, m, keyMsg("j"), &frame, &settled)
					}
				}
			}
			frame.report(b, "frame")
			settled.report(b, "settled")
			apply.report(b, "apply")
		})
	}
}

// BenchmarkFirstFrame: from opening the store (migration check included)
// to the first frame that shows orders and their count, every read of
// Init done. The target is ≤ 300 ms.
func BenchmarkFirstFrame(b *testing.B) {
	for _, n := range benchSizes {
		benchService(b, n)
		path := benchStores[n]
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			var first latencies
			for b.Loop() {
				start := time.Now()
				st, err := store.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				svc, err := ops.New(ops.Options{Store: st, Operator: ops.Operator{Name: "bench", Role: ops.Admin}, Now: pinnedClock})
				if err != nil {
					b.Fatal(err)
				}
				m := New(context.Background(), svc, testOptions())
				m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
				runCmd(b, m, m.Init())
				frame := m.View()
				first = append(first, time.Since(start))
				if o := m.orders(); len(o.rows) == 0 || !o.counted {
					b.Fatalf("first frame without orders:\n%s", frame)
				}
				st.Close()
			}
			first.report(b, "first")
		})
	}
}

// BenchmarkMemory: the console's heap after scrolling and paging through
// thousands of orders, at 10k and at 1M orders: it must not grow with the
// table.
func BenchmarkMemory(b *testing.B) {
	for _, n := range benchSizes {
		svc := benchService(b, n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			var heap, rows float64
			for b.Loop() {
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				m := benchModel(b, svc)
				for range 300 {
					press(b, m, "pgdown")
				}
				press(b, m, "G")
				for range 100 {
					press(b, m, "pgup")
				}
				_ = m.View()
				runtime.GC()
				runtime.ReadMemStats(&after)
				heap = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / 1024
				rows = float64(len(m.orders().rows))
				runtime.KeepAlive(m)
			}
			b.ReportMetric(heap, "model-heap-KiB")
			b.ReportMetric(rows, "rows-in-memory")
		})
	}
}
