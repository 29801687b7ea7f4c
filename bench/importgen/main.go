// Command importgen writes the CSV files of bench/import-bench.sh: n orders
// of the synthetic month the other benchmarks use (internal/benchdata), in
// the columns `paydesk orders import` reads, once with the month's
// time-prefixed order numbers and once with random ones (ten random
// characters and the row's index, as the store's BenchmarkImportOrders
// makes them), so that the CLI's import and the sqlite3 CLI's peer import
// read the very same bytes.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/internal/benchdata"
	"github.com/paydesk/paydesk/store"
)

func main() {
	dir := flag.String("dir", "bench/out/import-1000000", "folder to write time-prefixed.csv and random.csv to")
	n := flag.Int("n", 1_000_000, "orders in each file")
	flag.Parse()
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		log.Fatal(err)
	}
	for _, random := range []bool{false, true} {
		name := "time-prefixed.csv"
		if random {
			name = "random.csv"
		}
		if err := write(filepath.Join(*dir, name), *n, random); err != nil {
			log.Fatal(err)
		}
	}
}

func write(path string, n int, random bool) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "out_trade_no,channel,amount,currency,subject,status,trade_no,paid_at,refunded,created_at")
	r := rand.New(rand.NewPCG(1, 2))
	numbers := rand.New(rand.NewPCG(3, 4))
	const letters = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
	for i := range n {
		o := benchdata.Order(r, i)
		if random {
			no := []byte("PD")
			for range 10 {
				no = append(no, letters[numbers.IntN(len(letters))])
			}
			o.OutTradeNo = string(fmt.Appendf(no, "%07d", i)) // the index keeps them unique
		}
		fmt.Fprintf(w, "%s,%s,%s,CNY,%s,%s,%s,%s,%s,%s\n", o.OutTradeNo, o.Channel, o.Amount, o.Subject, o.Status,
			o.TradeNo, localTime(o.PaidAt), refunded(o), localTime(o.CreatedAt))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

func localTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(gateway.Shanghai).Format(time.DateTime)
}

func refunded(o store.Order) string {
	if o.Refunded == 0 {
		return ""
	}
	return o.Refunded.String()
}
