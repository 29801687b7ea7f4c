package wechat_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/gateway/wechat"
	"github.com/paydesk/paydesk/internal/testkit"
)

// endpoint is a merchant notification endpoint built on the client: it
// verifies what arrives and answers with NotifyReply, as paydesk serve does.
type endpoint struct {
	mu       sync.Mutex
	verified []gateway.Notification
	rejected []error
}

func (e *endpoint) handler(c *wechat.Client) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		n, err := c.VerifyNotification(r.Header, body, time.Now())
		e.mu.Lock()
		if err != nil {
			e.rejected = append(e.rejected, err)
		} else {
			e.verified = append(e.verified, n)
		}
		e.mu.Unlock()
		reply := c.NotifyReply(err)
		if reply.ContentType != "" {
			w.Header().Set("Content-Type", reply.ContentType)
		}
		w.WriteHeader(reply.Status)
		_, _ = w.Write(reply.Body)
	})
}

func TestSandboxNotificationsVerifyEndToEnd(t *testing.T) {
	s := testkit.StartSandbox(t)
	c := newClient(t, s)
	ep := &endpoint{}
	srv := httptest.NewServer(ep.handler(c))
	defer srv.Close()
	s.SetNotifyURL(gateway.WeChat, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	paidAt := time.Now().Add(-time.Second).Truncate(time.Second)
	paidTrade(t, s, "E2E-OK", 1999, paidAt)
	if _, err := c.Refund(ctx, gateway.RefundRequest{OutTradeNo: "E2E-OK", OutRequestNo: "E2E-OK-R", Amount: 999, Total: 1999}); err != nil {
		t.Fatal(err)
	}
	// Faults: a duplicate, a wrong signature, an amount changed in transit.
	for out, f := range map[string]sandbox.Fault{
		"E2E-DUP":    {DuplicateNotify: 1},
		"E2E-BADSIG": {BadSignature: true},
		"E2E-TAMPER": {TamperAmount: -1000},
	} {
		s.SetFault(gateway.WeChat, out, f)
		paidTrade(t, s, out, 1500, paidAt)
	}
	if err := s.WaitDelivered(ctx); err != nil {
		t.Fatal(err)
	}

	byOrder := map[string][]gateway.Notification{}
	for _, n := range ep.verified {
		byOrder[n.OutTradeNo] = append(byOrder[n.OutTradeNo], n)
	}
	ok := byOrder["E2E-OK"]
	if len(ok) != 2 || ok[0].Event == ok[1].Event {
		t.Fatalf("want a payment and a refund for E2E-OK, got %+v", ok)
	}
	for _, n := range ok {
		switch n.Event {
		case gateway.EventPayment:
			if n.Amount != 1999 || !n.PaidAt.Equal(paidAt) || n.TradeNo == "" {
				t.Errorf("payment: %+v", n)
			}
		case gateway.EventRefund:
			if n.RefundAmount != 999 || n.OutRequestNo != "E2E-OK-R" || n.Amount != 1999 {
				t.Errorf("refund: %+v", n)
			}
		}
	}
	if d := byOrder["E2E-DUP"]; len(d) != 2 || d[0].NotifyID != d[1].NotifyID {
		t.Fatalf("duplicated notification: %+v", d)
	}
	if len(byOrder["E2E-BADSIG"]) != 0 || len(byOrder["E2E-TAMPER"]) != 0 {
		t.Fatalf("a faulty notification verified: %+v", byOrder)
	}
	bad := 0
	for _, err := range ep.rejected {
		if !errors.Is(err, gateway.ErrBadSignature) {
			t.Errorf("rejection: %v", err)
		}
		bad++
	}
	// Each faulty notification was tried 1 + len(retries) times, never
	// acknowledged.
	want := 2 * (1 + len(testkit.FastRetries[gateway.WeChat]))
	if bad != want {
		t.Fatalf("%d rejected attempts, want %d", bad, want)
	}
	for _, d := range s.Deliveries() {
		faulty := d.OutTradeNo == "E2E-BADSIG" || d.OutTradeNo == "E2E-TAMPER"
		if d.Acked == faulty || (faulty && (!d.GaveUp || d.LastStatus != http.StatusUnauthorized)) {
			t.Errorf("delivery %+v", d)
		}
	}
}
