package sandbox_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/internal/testkit"
)

func newBook(t *testing.T) *sandbox.Server {
	t.Helper()
	s, err := sandbox.New(sandbox.Config{Keys: testkit.SandboxKeys(t), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConsoleRefundsNeverExceedThePaidAmount(t *testing.T) {
	s := newBook(t)
	if _, err := s.CreateTrade(sandbox.TradeSpec{Channel: gateway.Alipay, OutTradeNo: "T1", Amount: 1000}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConsoleRefund(sandbox.RefundSpec{Channel: gateway.Alipay, OutTradeNo: "T1", Amount: 100}); !errors.Is(err, sandbox.ErrNotPaid) {
		t.Fatalf("refund of an unpaid trade: %v", err)
	}
	if _, err := s.Pay(gateway.Alipay, "T1", testkit.Time(t, "2026-11-22T10:00:00+08:00")); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.ConsoleRefund(sandbox.RefundSpec{Channel: gateway.Alipay, OutTradeNo: "T1", OutRequestNo: fmt.Sprint("R", i), Amount: 300})
			if err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			} else if !errors.Is(err, sandbox.ErrRefundTooLarge) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	tr, _ := s.Trade(gateway.Alipay, "T1")
	succeeded, pending := tr.Refunded()
	if ok != 3 || succeeded != 900 || pending != 0 {
		t.Fatalf("ok=%d succeeded=%s pending=%s; want 3 refunds of 3.00", ok, succeeded, pending)
	}
	// The same request number again is the same refund, not a new one.
	again, err := s.ConsoleRefund(sandbox.RefundSpec{Channel: gateway.Alipay, OutTradeNo: "T1", OutRequestNo: tr.Refunds[0].OutRequestNo, Amount: 300})
	if err != nil || again.RefundID != tr.Refunds[0].RefundID {
		t.Fatalf("idempotent retry: %+v, %v", again, err)
	}
	if _, err := s.ConsoleRefund(sandbox.RefundSpec{Channel: gateway.Alipay, OutTradeNo: "T1", OutRequestNo: tr.Refunds[0].OutRequestNo, Amount: 50}); !errors.Is(err, sandbox.ErrRefundNoMismatch) {
		t.Fatalf("reused request number with another amount: %v", err)
	}
}

func TestCreateTradeWithAGivenTradeNumber(t *testing.T) {
	s := newBook(t)
	tr, err := s.CreateTrade(sandbox.TradeSpec{Channel: gateway.WeChat, OutTradeNo: "G1", Amount: 100, TradeNo: "4200000101202611221000000001"})
	if err != nil || tr.TradeNo != "4200000101202611221000000001" {
		t.Fatalf("%+v %v", tr, err)
	}
	// Another trade of the channel cannot take the same number; the other
	// channel has its own numbers.
	if _, err := s.CreateTrade(sandbox.TradeSpec{Channel: gateway.WeChat, OutTradeNo: "G2", Amount: 100, TradeNo: tr.TradeNo}); !errors.Is(err, sandbox.ErrTradeExists) {
		t.Fatalf("a second trade under the same number: %v", err)
	}
	if _, err := s.CreateTrade(sandbox.TradeSpec{Channel: gateway.Alipay, OutTradeNo: "G2", Amount: 100, TradeNo: tr.TradeNo}); err != nil {
		t.Fatal(err)
	}
	if other, _ := s.CreateTrade(sandbox.TradeSpec{Channel: gateway.WeChat, OutTradeNo: "G3", Amount: 100}); other == nil || other.TradeNo == "" || other.TradeNo == tr.TradeNo {
		t.Fatalf("a trade without a given number: %+v", other)
	}
}

// TestRefundBillsAsOfTheirTime: a WeChat Pay refund's row in the trade bill
// of the day it was asked for carries its status as of the cut (09:00 the
// next morning), and the fund bill moves its money on the day it was
// carried out — when it succeeded, or when it went ABNORMAL (the money
// left; its later payout moves nothing more).
func TestRefundBillsAsOfTheirTime(t *testing.T) {
	s := newBook(t)
	d := time.Date(2026, 11, 22, 0, 0, 0, 0, gateway.Shanghai)
	h := func(n float64) time.Time { return d.Add(time.Duration(n * float64(time.Hour))) }
	ends := []struct {
		out  string
		to   []gateway.RefundStatus
		at   []time.Time
		bill string // 退款状态 on the 22nd's bill, cut at 09:00 on the 23rd
		day  int    // the fund bill that moves it: 0 the 22nd, 1 the 23rd, -1 none
	}{
		{"ABN-PAID-LATER", []gateway.RefundStatus{gateway.RefundAbnormal, gateway.RefundSuccess}, []time.Time{h(15), h(34)}, "ABNORMAL", 0},
		{"ABN-AFTER-CUT", []gateway.RefundStatus{gateway.RefundAbnormal}, []time.Time{h(34)}, "PROCESSING", 1},
		{"ABN-PAID-BY-CUT", []gateway.RefundStatus{gateway.RefundAbnormal, gateway.RefundSuccess}, []time.Time{h(16), h(32)}, "SUCCESS", 0},
		{"CLOSED-BY-CUT", []gateway.RefundStatus{gateway.RefundFailed}, []time.Time{h(32)}, "CLOSED", -1},
		{"CLOSED-AFTER-CUT", []gateway.RefundStatus{gateway.RefundFailed}, []time.Time{h(34)}, "PROCESSING", -1},
	}
	for _, e := range ends {
		if _, err := s.CreateTrade(sandbox.TradeSpec{Channel: gateway.WeChat, OutTradeNo: e.out, Amount: 5000, CreatedAt: h(9)}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Pay(gateway.WeChat, e.out, h(10)); err != nil {
			t.Fatal(err)
		}
		s.SetFault(gateway.WeChat, e.out, sandbox.Fault{RefundPending: true})
		if _, err := s.ConsoleRefund(sandbox.RefundSpec{Channel: gateway.WeChat, OutTradeNo: e.out, OutRequestNo: "R-" + e.out, Amount: 2000, At: h(14)}); err != nil {
			t.Fatal(err)
		}
		for i, to := range e.to {
			if err := s.SettleRefundAs(gateway.WeChat, e.out, "R-"+e.out, to, e.at[i]); err != nil {
				t.Fatal(err)
			}
		}
	}
	var bill bytes.Buffer
	if _, err := s.WriteWeChatBill(&bill, d, "ALL"); err != nil {
		t.Fatal(err)
	}
	funds := make([]string, 2)
	for i := range funds {
		var b bytes.Buffer
		if _, err := s.WriteWeChatFundBill(&b, d.AddDate(0, 0, i)); err != nil {
			t.Fatal(err)
		}
		funds[i] = b.String()
	}
	for _, e := range ends {
		if row := "`R-" + e.out + ",`20.00,`0.00,`ORIGINAL,`" + e.bill + ","; !strings.Contains(bill.String(), row) {
			t.Errorf("%s: the 22nd's bill lacks %q:\n%s", e.out, row, bill.String())
		}
		for i, f := range funds {
			if moved := strings.Contains(f, "`退款,`退款,`支出,`"+(2000-sandbox.WeChatFee(2000)).String()+",") && strings.Contains(f, "`R-"+e.out+"\r\n"); moved != (i == e.day) {
				t.Errorf("%s: moved on day %d: %v, want day %d:\n%s", e.out, i, moved, e.day, f)
			}
		}
	}
}
