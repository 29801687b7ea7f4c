package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/internal/dbtest"
)

// BenchmarkIntake measures the store's side of a callback (store the raw
// request; apply the payment and record the attempt in one transaction)
// with 64 callbacks in flight, on SQLite (group commit) and on a durable
// PostgreSQL (fsync and synchronous_commit on), where it compares the
// store's way (each transition its own transaction on the pool, the server
// sharing WAL flushes among concurrent commits) with SQLite's way (the
// group committer's batches of savepoints on one connection):
//
//	go test ./store -run '^$' -bench Intake -benchtime 20000x
func BenchmarkIntake(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchIntake(b, openDSN(b, dbtest.SQLiteFile(b))) })
	srv, err := dbtest.Start(dbtest.Durable...)
	if err != nil {
		b.Skip(err)
	}
	defer srv.Stop()
	var dbs atomic.Int64
	for _, mode := range []string{"postgres-pool", "postgres-batched"} {
		b.Run(mode, func(b *testing.B) {
			name := fmt.Sprintf("intake%d", dbs.Add(1))
			db, err := sql.Open("pgx", srv.URL("postgres"))
			if err != nil {
				b.Fatal(err)
			}
			_, err = db.Exec("CREATE DATABASE " + name)
			db.Close()
			if err != nil {
				b.Fatal(err)
			}
			s := openDSN(b, srv.URL(name))
			if mode == "postgres-batched" {
				s.commits = startCommitter(s.w.db, s.sp, s.txAlone)
			}
			benchIntake(b, s)
		})
	}
}

func benchIntake(b *testing.B, s *Store) {
	ctx := context.Background()
	n := b.N
	orders := make([]Order, n)
	for i := range orders {
		orders[i] = pending(fmt.Sprintf("BI%08d", i), gateway.Money(100+i%1000))
		orders[i].Channel = gateway.Channels[i%2]
	}
	seed(b, s, orders...)
	const inFlight = 64
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for range inFlight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				o := orders[i]
				start := time.Now()
				id, err := s.SaveRawNotification(ctx, RawNotification{Channel: o.Channel, ReceivedAt: start, RemoteAddr: "127.0.0.1",
					Header: http.Header{"Content-Type": {"application/json"}}, Body: make([]byte, 900)})
				if err != nil {
					b.Error(err)
					return
				}
				p := Payment{OutTradeNo: o.OutTradeNo, Channel: o.Channel, TradeNo: fmt.Sprint("T", i), Amount: o.Amount, PaidAt: start, Via: ViaNotify}
				_, refused, err := s.MarkPaidRecording(ctx, p, start, id, func(PaymentResult, error) Attempt {
					return Attempt{Kind: AttemptIntake, At: start, VerifyStatus: Verified, ApplyStatus: ApplyApplied, OutTradeNo: o.OutTradeNo}
				})
				if err != nil || refused != nil {
					b.Error(err, refused)
					return
				}
				lat[i] = time.Since(start)
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "callbacks/s")
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	if paid, _ := s.CountOrders(ctx, OrderFilter{Status: OrderPaid}); paid != n {
		b.Fatalf("%d of %d paid", paid, n)
	}
}
