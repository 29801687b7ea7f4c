package wechat_test

import (
	"bytes"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/gateway/wechat"
)

// millionRowBill writes an ALL bill of n rows with the sandbox's writer:
// payments with a refund row every tenth row, realistic lengths (28-digit
// trade numbers, Chinese subjects).
func millionRowBill(b *testing.B, n int) []byte {
	b.Helper()
	var buf bytes.Buffer
	buf.Grow(n * 330)
	bw, err := sandbox.NewWeChatBillWriter(&buf, "ALL")
	if err != nil {
		b.Fatal(err)
	}
	start := time.Date(2026, 11, 21, 0, 0, 0, 0, gateway.Shanghai)
	row := sandbox.WeChatBillRow{AppID: "wxd678efh567hg6787", MchID: "1900000109", OpenID: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", Subject: "年费会员 标准版"}
	for i := range n {
		row.Time = start.Add(time.Duration(i%86400) * time.Second)
		row.TradeNo = "42000012342026112" + strconv.FormatInt(int64(10000000000+i), 10)
		row.OutTradeNo = "PD2026" + strconv.FormatInt(int64(10000000+i), 36)
		row.Amount = gateway.Money(100 + i%100000)
		if i%10 == 9 {
			row.RefundID = "503000012320261121" + strconv.FormatInt(int64(10000000000+i), 10)
			row.OutRefundNo = "RF" + row.OutTradeNo
			row.RefundAmount = row.Amount / 2
			row.Fee = -sandbox.WeChatFee(row.RefundAmount)
			err = bw.Refund(&row)
		} else {
			row.Fee = sandbox.WeChatFee(row.Amount)
			err = bw.Payment(&row)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := bw.Close(); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkOpenBill1M parses a 1,000,000-row ALL bill (about 300 MB of
// text) per iteration and reports rows/s and MB/s.
func BenchmarkOpenBill1M(b *testing.B) {
	const rows = 1_000_000
	data := millionRowBill(b, rows)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		br, err := wechat.OpenBill("bench.txt", bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			_, err := br.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != rows {
			b.Fatalf("%d rows", n)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
