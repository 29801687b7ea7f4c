package alipay_test

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/alipay"
	"github.com/paydesk/paydesk/gateway/sandbox"
)

const benchRows = 1_000_000

// benchBills makes a million-row bill once with the sandbox's streaming
// writer: the GBK detail CSV alone, and the zip as downloaded. One row in
// ten is a refund; subjects are Chinese, so GBK decoding is exercised.
var benchBills = sync.OnceValues(func() ([]byte, []byte) {
	day := time.Date(2026, 11, 22, 0, 0, 0, 0, gateway.Shanghai)
	subjects := []string{"洗衣订单-衬衫2件", "干洗 大衣", "洗鞋", "熨烫", "窗帘清洗（大）"}
	write := func(w *sandbox.AlipayBillWriter) {
		for i := range benchRows {
			at := day.Add(time.Duration(i) * 86 * time.Millisecond)
			amount := gateway.Money(100 + i%50000)
			row := sandbox.AlipayBillRow{
				TradeNo:    fmt.Sprintf("20261122220014%014d", i),
				OutTradeNo: fmt.Sprintf("PDK%09dX", i),
				Subject:    subjects[i%len(subjects)],
				CreatedAt:  at.Add(-5 * time.Second),
				FinishedAt: at,
				Buyer:      "138****0001",
				Amount:     amount,
				Fee:        sandbox.AlipayFee(amount),
			}
			if i%10 == 9 {
				row.Refund, row.OutRequestNo = true, fmt.Sprintf("RQ%09d", i)
			}
			if err := w.Add(row); err != nil {
				panic(err)
			}
		}
		if err := w.Close(); err != nil {
			panic(err)
		}
	}
	var csv, zip bytes.Buffer
	write(sandbox.NewAlipayBillCSV(&csv, "20880001000000010156", day))
	write(sandbox.NewAlipayBillZip(&zip, "20880001000000010156", day))
	return csv.Bytes(), zip.Bytes()
})

// BenchmarkOpenBill1M parses a 1,000,000-row GBK bill on one goroutine:
// "csv" is the detail file alone, "zip" the zip as downloaded (inflating
// included). Run: go test -run='^$' -bench=OpenBill1M -benchtime=3x ./gateway/alipay
func BenchmarkOpenBill1M(b *testing.B) {
	csv, zip := benchBills()
	for _, in := range []struct {
		name string
		data []byte
	}{{"csv", csv}, {"zip", zip}} {
		b.Run(in.name, func(b *testing.B) {
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				r, err := alipay.OpenBill("bench."+in.name, bytes.NewReader(in.data))
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for {
					_, err := r.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
				if n != benchRows {
					b.Fatalf("%d rows", n)
				}
			}
			sec := time.Since(start).Seconds() / float64(b.N)
			b.ReportMetric(benchRows/sec, "rows/s")
			b.ReportMetric(float64(len(csv))/sec/1e6, "MB/s") // of bill text, for both inputs
			b.ReportMetric(float64(len(in.data))/1e6, "input-MB")
		})
	}
}
