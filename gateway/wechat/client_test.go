package wechat_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/gateway/wechat"
	"github.com/paydesk/paydesk/internal/testkit"
)

func TestNewChecksTheConfig(t *testing.T) {
	s := testkit.StartSandbox(t)
	cases := map[string]func(*wechat.Config){
		"missing mchid":   func(c *wechat.Config) { c.MchID = "" },
		"short APIv3 key": func(c *wechat.Config) { c.APIv3Key = "0123456789abcdef" },
		"no private key":  func(c *wechat.Config) { c.PrivateKeyPEM = nil },
		"bad public key": func(c *wechat.Config) {
			c.PlatformPublicKeyPEM = []byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
		},
		"base URL path":   func(c *wechat.Config) { c.BaseURL = s.URL() + "/wechat" },
		"base URL scheme": func(c *wechat.Config) { c.BaseURL = "ftp://example.com" },
	}
	for name, mutate := range cases {
		cfg := config(t, s)
		mutate(&cfg)
		if _, err := wechat.New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), cfg.APIv3Key) && cfg.APIv3Key != "" {
			t.Errorf("%s: the error shows the APIv3 key: %v", name, err)
		}
	}
}

func TestQueryTrade(t *testing.T) {
	s := testkit.StartSandbox(t)
	c := newClient(t, s)
	ctx := context.Background()
	paidAt := yesterday()
	paid := paidTrade(t, s, "Q-PAID", 9900, paidAt)
	if _, err := s.CreateTrade(sandbox.TradeSpec{Channel: gateway.WeChat, OutTradeNo: "Q-OPEN", Amount: 100}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateTrade(sandbox.TradeSpec{Channel: gateway.WeChat, OutTradeNo: "Q-CLOSED", Amount: 100}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CloseTrade(gateway.WeChat, "Q-CLOSED", time.Time{}); err != nil {
		t.Fatal(err)
	}

	tr, err := c.QueryTrade(ctx, "Q-PAID")
	if err != nil {
		t.Fatal(err)
	}
	if tr.State != gateway.TradePaid || tr.PlatformState != "SUCCESS" || tr.Amount != 9900 || tr.TradeNo != paid.TradeNo ||
		!tr.PaidAt.Equal(paidAt) || tr.BuyerID != paid.BuyerID || len(tr.Raw) == 0 || tr.Channel != gateway.WeChat {
		t.Fatalf("paid trade: %+v", tr)
	}
	if tr, err := c.QueryTrade(ctx, "Q-OPEN"); err != nil || tr.State != gateway.TradeNotPaid || tr.PlatformState != "NOTPAY" || tr.IsPaid() {
		t.Fatalf("open trade: %+v, %v", tr, err)
	}
	if tr, err := c.QueryTrade(ctx, "Q-CLOSED"); err != nil || tr.State != gateway.TradeClosed {
		t.Fatalf("closed trade: %+v, %v", tr, err)
	}
	if _, err := c.QueryTrade(ctx, "Q-NONE"); !errors.Is(err, gateway.ErrTradeNotFound) {
		t.Fatalf("unknown trade: %v", err)
	}
	if _, err := c.Refund(ctx, gateway.RefundRequest{OutTradeNo: "Q-PAID", OutRequestNo: "Q-R1", Amount: 100, Total: 9900}); err != nil {
		t.Fatal(err)
	}
	if tr, err := c.QueryTrade(ctx, "Q-PAID"); err != nil || tr.State != gateway.TradeRefunded || !tr.IsPaid() {
		t.Fatalf("refunded trade: %+v, %v", tr, err)
	}
}

func TestQueryTradeRejectsAChangedAnswer(t *testing.T) {
	s := testkit.StartSandbox(t)
	paidTrade(t, s, "Q-FLIP", 100, yesterday())
	flip := &flipTransport{prefix: "/v3/"}
	c := newClient(t, s, func(cfg *wechat.Config) { cfg.HTTPClient = &http.Client{Transport: flip} })
	if tr, err := c.QueryTrade(context.Background(), "Q-FLIP"); err == nil || flip.flipped.Load() == 0 {
		t.Fatalf("changed answer accepted: %+v, %v", tr, err)
	}
}

func TestRefund(t *testing.T) {
	s := testkit.StartSandbox(t)
	c := newClient(t, s)
	ctx := context.Background()
	paidTrade(t, s, "R-1", 1000, yesterday())
	req := gateway.RefundRequest{OutTradeNo: "R-1", OutRequestNo: "R-1-A", Amount: 300, Total: 1000, Reason: "顾客退货"}

	r, err := c.Refund(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != gateway.RefundSuccess || r.Amount != 300 || r.RefundID == "" || r.OutTradeNo != "R-1" || r.RefundedAt.IsZero() || len(r.Raw) == 0 {
		t.Fatalf("refund: %+v", r)
	}
	again, err := c.Refund(ctx, req)
	if err != nil || again.RefundID != r.RefundID {
		t.Fatalf("re-sent refund: %+v, %v", again, err)
	}
	q, err := c.QueryRefund(ctx, "R-1", "R-1-A")
	if err != nil || q.RefundID != r.RefundID || q.Status != gateway.RefundSuccess || q.Amount != 300 {
		t.Fatalf("refund query: %+v, %v", q, err)
	}
	if _, err := c.QueryRefund(ctx, "OTHER-ORDER", "R-1-A"); err == nil {
		t.Fatal("a refund of another order was accepted")
	}
	if _, err := c.QueryRefund(ctx, "R-1", "NO-SUCH-REFUND"); !errors.Is(err, gateway.ErrRefundNotFound) {
		t.Fatalf("unknown refund: %v", err)
	}

	// A signed refusal is definite: not an unknown outcome.
	_, err = c.Refund(ctx, gateway.RefundRequest{OutTradeNo: "R-1", OutRequestNo: "R-1-B", Amount: 800, Total: 1000})
	var apiErr *wechat.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != "INVALID_REQUEST" || errors.Is(err, gateway.ErrUnknownOutcome) {
		t.Fatalf("refund above the ceiling: %v", err)
	}
	if _, err := c.Refund(ctx, gateway.RefundRequest{OutTradeNo: "R-NONE", OutRequestNo: "R-N", Amount: 1, Total: 1}); !errors.Is(err, gateway.ErrTradeNotFound) {
		t.Fatalf("refund of an unknown order: %v", err)
	}
	tr, _ := s.Trade(gateway.WeChat, "R-1")
	if succeeded, pending := tr.Refunded(); succeeded != 300 || pending != 0 {
		t.Fatalf("sandbox book: succeeded %s pending %s", succeeded, pending)
	}
}

func TestRefundPendingThenSettled(t *testing.T) {
	s := testkit.StartSandbox(t)
	c := newClient(t, s)
	ctx := context.Background()
	paidTrade(t, s, "RP-1", 1000, yesterday())
	s.SetFault(gateway.WeChat, "RP-1", sandbox.Fault{RefundPending: true})
	r, err := c.Refund(ctx, gateway.RefundRequest{OutTradeNo: "RP-1", OutRequestNo: "RP-1-A", Amount: 1000, Total: 1000})
	if err != nil || r.Status != gateway.RefundPending || r.PlatformState != "PROCESSING" {
		t.Fatalf("pending refund: %+v, %v", r, err)
	}
	if err := s.SettleRefund(gateway.WeChat, "RP-1", "RP-1-A", true, time.Time{}); err != nil {
		t.Fatal(err)
	}
	q, err := c.QueryRefund(ctx, "RP-1", "RP-1-A")
	if err != nil || q.Status != gateway.RefundSuccess {
		t.Fatalf("settled refund: %+v, %v", q, err)
	}
}

// The cases where the platform may have refunded must never look like a
// refusal: the caller keeps the refund PENDING and resolves it later.
func TestRefundOutcomeUnknown(t *testing.T) {
	s := testkit.StartSandbox(t)
	ctx := context.Background()
	paidTrade(t, s, "RU-1", 1000, yesterday())

	t.Run("server error", func(t *testing.T) {
		s.SetFault(gateway.WeChat, "RU-1", sandbox.Fault{ServerError: true})
		defer s.ClearFaults()
		_, err := newClient(t, s).Refund(ctx, gateway.RefundRequest{OutTradeNo: "RU-1", OutRequestNo: "RU-5XX", Amount: 100, Total: 1000})
		if !errors.Is(err, gateway.ErrUnknownOutcome) {
			t.Fatalf("5xx: %v", err)
		}
	})
	t.Run("no answer", func(t *testing.T) {
		s.SetFault(gateway.WeChat, "RU-1", sandbox.Fault{Hang: true})
		defer s.ClearFaults()
		c := newClient(t, s, func(cfg *wechat.Config) { cfg.HTTPClient = &http.Client{Timeout: 300 * time.Millisecond} })
		_, err := c.Refund(ctx, gateway.RefundRequest{OutTradeNo: "RU-1", OutRequestNo: "RU-HANG", Amount: 100, Total: 1000})
		if !errors.Is(err, gateway.ErrUnknownOutcome) {
			t.Fatalf("timeout: %v", err)
		}
		// The platform did refund; re-sending the same number resolves it.
		s.ClearFaults()
		r, err := newClient(t, s).Refund(ctx, gateway.RefundRequest{OutTradeNo: "RU-1", OutRequestNo: "RU-HANG", Amount: 100, Total: 1000})
		if err != nil || r.Status != gateway.RefundSuccess {
			t.Fatalf("re-sent after a timeout: %+v, %v", r, err)
		}
	})
	t.Run("changed answer", func(t *testing.T) {
		flip := &flipTransport{prefix: "/v3/refund/"}
		c := newClient(t, s, func(cfg *wechat.Config) { cfg.HTTPClient = &http.Client{Transport: flip} })
		_, err := c.Refund(ctx, gateway.RefundRequest{OutTradeNo: "RU-1", OutRequestNo: "RU-FLIP", Amount: 100, Total: 1000})
		if !errors.Is(err, gateway.ErrUnknownOutcome) || flip.flipped.Load() != 1 {
			t.Fatalf("changed success answer: %v", err)
		}
		// A refusal with a byte changed is not a signed refusal either.
		_, err = c.Refund(ctx, gateway.RefundRequest{OutTradeNo: "RU-1", OutRequestNo: "RU-FLIP2", Amount: 900, Total: 1000})
		var apiErr *wechat.APIError
		if !errors.Is(err, gateway.ErrUnknownOutcome) || errors.As(err, &apiErr) {
			t.Fatalf("changed refusal: %v", err)
		}
	})
	tr, _ := s.Trade(gateway.WeChat, "RU-1")
	if succeeded, _ := tr.Refunded(); succeeded != 200 {
		t.Fatalf("sandbox refunded %s; want 2.00 (the hung and the changed-answer refunds, once each)", succeeded)
	}
}

func TestDownloadBill(t *testing.T) {
	s := testkit.StartSandbox(t)
	c := newClient(t, s)
	ctx := context.Background()
	day2 := yesterday()
	day1 := day2.AddDate(0, 0, -1)
	paidTrade(t, s, "B-1", 1000, day1.Add(-12*time.Hour+30*time.Second)) // 00:00:30 on day 1
	paidTrade(t, s, "B-2", 2550, day2.Add(11*time.Hour+59*time.Minute))  // 23:59 on day 2
	paidTrade(t, s, "B-3", 333, day2.Add(-12*time.Hour))                 // midnight: day 2
	// A refund of day 1's payment succeeds on day 2: it is in day 2's bill.
	if _, err := s.ConsoleRefund(sandbox.RefundSpec{Channel: gateway.WeChat, OutTradeNo: "B-1", OutRequestNo: "B-1-R", Amount: 400, At: day2}); err != nil {
		t.Fatal(err)
	}

	var buf bytes.Buffer
	f, err := c.DownloadBill(ctx, day2, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if f.Size != int64(buf.Len()) || !strings.Contains(f.Name, day2.Format("20060102")) {
		t.Fatalf("bill file: %+v (%d bytes written)", f, buf.Len())
	}
	if !bytes.Contains(buf.Bytes(), []byte("\r\n`")) {
		t.Fatal("the sandbox's bill should have CRLF line ends")
	}
	lines := readBill(t, f.Name, &buf)
	got := map[string]gateway.BillLine{}
	for _, l := range lines {
		got[string(l.Kind)+" "+l.OutTradeNo] = l
	}
	if len(lines) != 3 {
		t.Fatalf("day 2 has 3 rows, got %+v", lines)
	}
	if l := got["PAYMENT B-2"]; l.Amount != 2550 || l.Net != 2550 || l.Fee != 15 || !l.Time.Equal(day2.Add(11*time.Hour+59*time.Minute)) {
		t.Fatalf("B-2 payment: %+v", l)
	}
	if l := got["REFUND B-1"]; l.Amount != 400 || l.Net != -400 || l.Fee != -2 || l.OutRequestNo != "B-1-R" || l.RefundID == "" || !l.Time.Equal(day2) {
		t.Fatalf("B-1 refund: %+v", l)
	}
	if _, ok := got["PAYMENT B-3"]; !ok {
		t.Fatalf("a payment at midnight belongs to the day it starts: %+v", lines)
	}

	if _, err := c.DownloadBill(ctx, time.Now(), io.Discard); !errors.Is(err, gateway.ErrBillNotReady) {
		t.Fatalf("today's bill: %v", err)
	}
	if _, err := c.DownloadBill(ctx, day1.AddDate(0, 0, -5), io.Discard); !errors.Is(err, gateway.ErrBillNotReady) {
		t.Fatalf("a day without trades: %v", err)
	}
}

func TestDownloadBillRejectsAReplacedFile(t *testing.T) {
	s := testkit.StartSandbox(t)
	paidTrade(t, s, "BR-1", 1000, yesterday())
	c := newClient(t, s, func(cfg *wechat.Config) {
		cfg.HTTPClient = &http.Client{Transport: testkit.SwapWeChatBillDownload{Old: "`10.00,", New: "`1.00,"}}
	})
	var buf bytes.Buffer
	_, err := c.DownloadBill(context.Background(), yesterday(), &buf)
	if err == nil || !strings.Contains(err.Error(), "SHA1") {
		t.Fatalf("replaced bill: %v", err)
	}
	// What reached buf is the caller's spool, which it discards on the
	// error (ops: TestFetchBillWithABadHashKeepsNothing).
}
