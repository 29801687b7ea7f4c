package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// The benchmarks run only under -bench (see bench/README.md):
//
//	go test ./store -run '^$' -bench . -benchtime 1x
//
// They build a 1,000,000-order database once per process.

const benchOrders = 1_000_000

var statusMix = []OrderStatus{OrderPaid, OrderPaid, OrderPaid, OrderPaid, OrderPaid, OrderPaid, OrderPending, OrderClosed, OrderPartiallyRefunded, OrderRefunded}

// benchOrder makes the i-th order of a repeatable synthetic month: both
// channels, a realistic status mix, and numbers shaped like real ones: the
// merchant number is a time prefix and 6 random characters (as in the WeChat
// samples' S20210128170702357723), the platform number date-prefixed. With
// randomNumbers the merchant number is 10 random characters instead, which
// scatters inserts across the unique index (the import's worst case).
func benchOrder(r *rand.Rand, i int, start time.Time, randomNumbers bool) Order {
	const letters = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
	created := start.Add(time.Duration(i) * 2600 * time.Millisecond)
	var no []byte
	if randomNumbers {
		no = append(no, "PD"...)
		for range 10 {
			no = append(no, letters[r.IntN(len(letters))])
		}
		no = fmt.Appendf(no, "%07d", i) // the suffix keeps them unique
	} else {
		no = append(no, "PD"...)
		no = created.AppendFormat(no, "20060102150405")
		for range 6 {
			no = append(no, letters[r.IntN(len(letters))])
		}
	}
	o := Order{
		OutTradeNo: string(no),
		Channel:    gateway.Alipay,
		Amount:     gateway.Money(100 + r.IntN(99900)),
		Subject:    "会员月卡",
		Status:     statusMix[r.IntN(len(statusMix))],
		CreatedAt:  created,
	}
	if r.IntN(3) == 0 {
		o.Channel = gateway.WeChat
	}
	if o.Status.IsPaid() {
		o.TradeNo = created.Format("20060102") + fmt.Sprintf("22001%07d%05d", i, r.IntN(1e5))
		o.PaidAt = o.CreatedAt.Add(30 * time.Second)
	}
	switch o.Status {
	case OrderRefunded:
		o.Refunded = o.Amount
	case OrderPartiallyRefunded:
		o.Refunded = o.Amount / 2
	}
	return o
}

var benchStart = time.Date(2026, 10, 1, 0, 0, 0, 0, gateway.Shanghai)

func importSynthetic(b *testing.B, s *Store, n int, randomNumbers bool) {
	r := rand.New(rand.NewPCG(1, 2))
	_, err := s.ImportOrders(context.Background(), benchStart, func(im *OrderImporter) error {
		for i := range n {
			if err := im.Insert(context.Background(), benchOrder(r, i, benchStart, randomNumbers)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkImportOrders inserts b.N orders into a fresh database in one
// import; run with -benchtime 1000000x for the 1M figure.
func BenchmarkImportOrders(b *testing.B) {
	for _, random := range []bool{false, true} {
		name := "time-prefixed-numbers"
		if random {
			name = "random-numbers"
		}
		b.Run(name, func(b *testing.B) {
			s, err := Open(filepath.Join(b.TempDir(), "import.db"))
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			importSynthetic(b, s, b.N, random)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "orders/s")
			// On SQLite the log the import wrote is folded back into the
			// database after it returns (checkpoint_sqlite.go); Close
			// waits for that: the rate with it is the end-to-end one.
			if err := s.Close(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "orders/s-closed")
		})
	}
}

var (
	millionOnce sync.Once
	millionPath string
	millionErr  error
)

// millionStore opens a shared 1M-order database built once per process.
func millionStore(b *testing.B) *Store {
	millionOnce.Do(func() {
		dir, err := os.MkdirTemp("", "paydesk-bench-")
		if err != nil {
			millionErr = err
			return
		}
		millionPath = filepath.Join(dir, "million.db")
		s, err := Open(millionPath)
		if err != nil {
			millionErr = err
			return
		}
		importSynthetic(b, s, benchOrders, false)
		_, millionErr = s.w.ExecContext(context.Background(), "ANALYZE")
		s.Close()
	})
	if millionErr != nil {
		b.Fatal(millionErr)
	}
	s, err := Open(millionPath)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

var benchFilters = []struct {
	name string
	f    OrderFilter
}{
	{"all", OrderFilter{}},
	{"status=PENDING", OrderFilter{Status: OrderPending}},
	{"status=REFUNDED", OrderFilter{Status: OrderRefunded}},
	{"channel=wechat", OrderFilter{Channel: gateway.WeChat}},
	{"channel+status", OrderFilter{Channel: gateway.WeChat, Status: OrderClosed}},
	{"day", OrderFilter{Since: benchStart.AddDate(0, 0, 10), Until: benchStart.AddDate(0, 0, 11)}},
	{"status+day", OrderFilter{Status: OrderPaid, Since: benchStart.AddDate(0, 0, 10), Until: benchStart.AddDate(0, 0, 11)}},
	{"number=PD20261010", OrderFilter{Number: "PD20261010"}},
	{"number=PD2026101012", OrderFilter{Number: "PD2026101012"}},
	{"number=PD", OrderFilter{Number: "PD"}},
	{"number=tradeNo-day", OrderFilter{Number: "20261010"}},
	{"number=PD+status", OrderFilter{Number: "PD2026101", Status: OrderRefunded}},
}

// BenchmarkListOrders1M measures one 100-row page (first, middle, last) under
// each filter at 1M orders; the target is ≤ 5 ms per page.
func BenchmarkListOrders1M(b *testing.B) {
	s := millionStore(b)
	ctx := context.Background()
	for _, bf := range benchFilters {
		// The middle page starts from the cursor of the order half way
		// through the filter's range.
		n, err := s.CountOrders(ctx, bf.f)
		if err != nil {
			b.Fatal(err)
		}
		// The middle page starts from a cursor half way through: walk
		// there once with big pages.
		var mid *Cursor
		var cur *Cursor
		for seen := 0; seen < n/2; {
			p, err := s.ListOrders(ctx, bf.f, cur, Older, 5000)
			if err != nil || len(p.Orders) == 0 {
				b.Fatal(err)
			}
			seen += len(p.Orders)
			cur = &p.Last
		}
		mid = cur
		for _, pos := range []string{"first", "middle", "last"} {
			b.Run(bf.name+"/"+pos, func(b *testing.B) {
				for b.Loop() {
					var page Page
					var err error
					switch pos {
					case "first":
						page, err = s.ListOrders(ctx, bf.f, nil, Older, 100)
					case "middle":
						page, err = s.ListOrders(ctx, bf.f, mid, Older, 100)
					case "last":
						page, err = s.ListOrders(ctx, bf.f, nil, Newer, 100)
					}
					if err != nil {
						b.Fatal(err)
					}
					_ = page
				}
			})
		}
	}
}

// BenchmarkCountOrders1M measures COUNT under each filter at 1M orders; the
// target is ≤ 50 ms.
func BenchmarkCountOrders1M(b *testing.B) {
	s := millionStore(b)
	for _, bf := range benchFilters {
		b.Run(bf.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.CountOrders(context.Background(), bf.f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEachPaidOrder1M reads a month of the 1M-order store's paid
// orders (about 600,000) through database/sql (the engine-neutral scan) and
// beneath it (the SQLite one): one op is the whole read.
func BenchmarkEachPaidOrder1M(b *testing.B) {
	s := millionStore(b)
	ctx := context.Background()
	for _, sc := range []struct {
		name string
		scan paidScanner
	}{{"database-sql", s.scanPaidSQL}, {"sqlite-c-api", s.scanPaidSQLite}} {
		b.Run(sc.name, func(b *testing.B) {
			n := 0
			for b.Loop() {
				n = 0
				for _, ch := range gateway.Channels {
					err := eachPaidSlice(ctx, ch, benchStart, benchStart.AddDate(0, 1, 0), sc.scan, func(*PaidOrder) error {
						n++
						return nil
					})
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/order")
		})
	}
}
