package alipay_test

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/alipay"
	"github.com/paydesk/paydesk/gateway/sandbox"
)

// textRowsBill is how many rows the BillOptions.TextRows tests read: eight
// times the rows they keep text for (textRowsKept), so that blocks are
// written over again and again.
const textRowsBill = 40_000

// With BillOptions.TextRows a reader writes a row's strings over only
// after that many more rows, never sooner: every row's strings are still
// what they were when it was read, TextRows-1 rows later. And it does write
// them over: the read allocates less than without, by at least half the
// bytes of the rows' strings.
func TestFundBillTextRowsKeepsEveryRowLongEnough(t *testing.T) {
	day := time.Date(2026, 11, 22, 0, 0, 0, 0, gateway.Shanghai)
	var zip bytes.Buffer
	w := sandbox.NewAlipayFundZip(&zip, "20880001000000010156", day, sandbox.AlipayFundOpening)
	for i := range textRowsBill / 2 {
		trade, order := fmt.Sprintf("2026112222001%015d", i), fmt.Sprintf("PD%09dX", i)
		at := day.Add(time.Duration(i) * time.Second)
		for _, r := range []sandbox.AlipayFundRow{
			{FlowNo: fmt.Sprintf("2026112210%012d", 2*i), BizNo: trade, OutTradeNo: order, Time: at, Amount: gateway.Money(100 + i%900), Type: "在线支付", Peer: "138****0001"},
			{FlowNo: fmt.Sprintf("2026112210%012d", 2*i+1), BizNo: trade, OutTradeNo: order, Time: at, Amount: -1, Type: "收费", Remark: "服务费[" + trade + "]"},
		} {
			if err := w.Add(&r); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	checkTextRows(t, func(opt gateway.BillOptions) (func() (*gateway.FundLine, error), error) {
		fr, err := alipay.OpenFundBill("funds.zip", bytes.NewReader(zip.Bytes()), opt)
		if err != nil {
			return nil, err
		}
		return fr.Next, nil
	}, func(dst []string, l *gateway.FundLine) []string {
		return append(dst, l.FlowNo, l.TradeNo, l.OutTradeNo, l.Type, l.Remark)
	})
}

// The trade bill reader does the same, its cached 商品名称 included.
func TestTradeBillTextRowsKeepsEveryRowLongEnough(t *testing.T) {
	day := time.Date(2026, 11, 22, 0, 0, 0, 0, gateway.Shanghai)
	subjects := []string{"洗衣订单-衬衫2件", "干洗 大衣", "洗鞋"}
	var zip bytes.Buffer
	w := sandbox.NewAlipayBillZip(&zip, "20880001000000010156", day)
	for i := range textRowsBill {
		at := day.Add(time.Duration(i) * time.Second)
		r := sandbox.AlipayBillRow{TradeNo: fmt.Sprintf("2026112222001%015d", i), OutTradeNo: fmt.Sprintf("PDK%09dX", i),
			Subject: subjects[i%len(subjects)], CreatedAt: at, FinishedAt: at, Buyer: "138****0001", Amount: gateway.Money(100 + i%900)}
		if i%10 == 9 {
			r.Refund, r.OutRequestNo = true, fmt.Sprintf("RQ%09d", i)
		}
		if err := w.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	checkTextRows(t, func(opt gateway.BillOptions) (func() (*gateway.BillLine, error), error) {
		br, err := alipay.Open("bill.zip", bytes.NewReader(zip.Bytes()), opt)
		if err != nil {
			return nil, err
		}
		return br.Next, nil
	}, func(dst []string, l *gateway.BillLine) []string {
		return append(dst, l.TradeNo, l.OutTradeNo, l.OutRequestNo, l.Subject)
	})
}

// textRowsKept is the TextRows the tests ask for: several 64 KB blocks of
// rows, since a block is written over as a whole.
const textRowsKept = 5000

// checkTextRows reads the bill open opens twice, without TextRows and with
// textRowsKept, holding each row's strings (text) to copies of them
// (checkTextKept); with TextRows the read must allocate less, by at least
// half the bytes of the rows' strings.
func checkTextRows[T any](t *testing.T, open func(gateway.BillOptions) (func() (*T, error), error), text func(dst []string, l *T) []string) {
	t.Helper()
	read := func(keep int) (allocated, textBytes uint64) {
		next, err := open(gateway.BillOptions{TextRows: keep})
		if err != nil {
			t.Fatal(err)
		}
		checkTextKept(t, keep, func(dst []string) ([]string, bool) {
			l, err := next()
			if err == io.EOF {
				return nil, false
			}
			if err != nil {
				t.Fatal(err)
			}
			return text(dst, l), true
		}, &allocated, &textBytes)
		return allocated, textBytes
	}
	without, textBytes := read(0)
	with, _ := read(textRowsKept)
	if without < with+textBytes/2 {
		t.Errorf("reading %d rows (%d bytes of text) allocated %d bytes with TextRows %d, %d without: the text was not written over",
			textRowsBill, textBytes, with, textRowsKept, without)
	}
}

// checkTextKept reads every row with next (which appends its strings to
// dst) and holds rows' strings to copies made when they were read: the row
// keep-1 rows back (the oldest TextRows promises) and the one halfway to
// it, at every row. It adds what the read allocated, the checks' copies
// left out, to allocated, and the bytes of the rows' strings to text.
func checkTextKept(t *testing.T, keep int, next func(dst []string) ([]string, bool), allocated, text *uint64) {
	t.Helper()
	window := keep
	if window == 0 {
		window = 1000
	}
	type kept struct{ text, copies []string }
	rows := make([]kept, window)
	for i := range rows {
		rows[i] = kept{make([]string, 0, 8), make([]string, 0, 8)}
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var own uint64 // what the checks' copies took
	n := 0
	for {
		r := &rows[n%window]
		row, ok := next(r.text[:0])
		if !ok {
			break
		}
		r.text, r.copies = row, r.copies[:0]
		for _, s := range row {
			r.copies = append(r.copies, strings.Clone(s))
			own += uint64(len(s))
		}
		n++
		for _, back := range []int{window - 1, window / 2} {
			if back >= n {
				continue
			}
			old := &rows[(n-1-back)%window]
			for k, s := range old.text {
				if s != old.copies[k] {
					t.Fatalf("row %d: %q became %q %d rows later (TextRows %d)", n-back, old.copies[k], s, back, keep)
				}
			}
		}
	}
	runtime.ReadMemStats(&after)
	if n != textRowsBill {
		t.Fatalf("read %d rows, want %d", n, textRowsBill)
	}
	*allocated += after.TotalAlloc - before.TotalAlloc - own
	*text += own
}
