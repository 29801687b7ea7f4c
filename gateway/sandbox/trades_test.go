package sandbox_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

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
