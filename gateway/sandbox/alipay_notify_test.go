package sandbox_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	sdk "github.com/smartwalle/alipay/v3"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
)

// TestAlipaySDKVerifiesGBKCallbacks: smartwalle/alipay verifies the
// sandbox's GBK callbacks as they arrive (the form's values are the GBK
// bytes that were signed), and its subject decodes from GBK.
func TestAlipaySDKVerifiesGBKCallbacks(t *testing.T) {
	clock := newAlipayClock(time.Now())
	s, c := startAlipay(t, false, clock, nil)
	var mu sync.Mutex
	var got *sdk.Notification
	var verifyErr error
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		got, verifyErr = c.GetTradeNotification(r)
		if verifyErr != nil {
			w.Write([]byte("fail"))
			return
		}
		w.Write([]byte("success"))
	}))
	defer srv.Close()
	s.SetNotifyURL(gateway.Alipay, srv.URL)
	s.SetFault(gateway.Alipay, "GBK-1", sandbox.Fault{NotifyCharset: "gbk"})
	mustPaidAlipayTrade(t, s, "GBK-1", 1200, clock.Now())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitDelivered(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if verifyErr != nil || got == nil || got.Charset != "gbk" {
		t.Fatalf("GBK callback: %+v, %v", got, verifyErr)
	}
	subject, err := simplifiedchinese.GBK.NewDecoder().String(got.Subject)
	if err != nil || subject != "洗衣订单, 加急" {
		t.Fatalf("subject %q decodes to %q, %v", got.Subject, subject, err)
	}
}
