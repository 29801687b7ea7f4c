package sandbox_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/internal/testkit"
)

// TestCloseReleasesConnectionsToTheMerchant: once the sandbox is closed, no
// connection of its stays open at the merchant's endpoint. One kept in a
// shared pool would hold the endpoint's graceful shutdown for seconds.
func TestCloseReleasesConnectionsToTheMerchant(t *testing.T) {
	var mu sync.Mutex
	open := map[net.Conn]bool{}
	merchant := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("success"))
	}))
	merchant.Config.ConnState = func(c net.Conn, st http.ConnState) {
		mu.Lock()
		defer mu.Unlock()
		switch st {
		case http.StateNew:
			open[c] = true
		case http.StateClosed, http.StateHijacked:
			delete(open, c)
		}
	}
	merchant.Start()
	defer merchant.Close()

	s, err := sandbox.New(sandbox.Config{Keys: testkit.SandboxKeys(t), Seed: 1,
		NotifyURL: map[gateway.Channel]string{gateway.Alipay: merchant.URL}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 8 {
		no := fmt.Sprint("C", i)
		if _, err := s.CreateTrade(sandbox.TradeSpec{Channel: gateway.Alipay, OutTradeNo: no, Amount: 100}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Pay(gateway.Alipay, no, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitDelivered(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		mu.Lock()
		n := len(open)
		mu.Unlock()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connections of the closed sandbox are still open at the merchant", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
