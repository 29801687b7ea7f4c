package alipay_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/alipay"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/internal/testkit"
)

func newMapi(t testing.TB, s *sandbox.Server, mutate ...func(*alipay.MapiConfig)) *alipay.Mapi {
	t.Helper()
	k := testkit.SandboxKeys(t)
	cfg := alipay.MapiConfig{PID: k.AlipayPID, MD5Key: k.AlipayMD5Key, GatewayURL: s.URL() + sandbox.AlipayMapiPath}
	for _, m := range mutate {
		m(&cfg)
	}
	m, err := alipay.NewMapi(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func payLegacy(t *testing.T, s *sandbox.Server, out string, amount gateway.Money, f sandbox.Fault) *sandbox.Trade {
	t.Helper()
	f.AlipayMapi = true
	s.SetFault(gateway.Alipay, out, f)
	if _, err := s.CreateTrade(sandbox.TradeSpec{Channel: gateway.Alipay, OutTradeNo: out, Amount: amount, Subject: "即时到账 " + out}); err != nil {
		t.Fatal(err)
	}
	tr, err := s.Pay(gateway.Alipay, out, time.Now().Add(-time.Second).Truncate(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitDelivered(ctx); err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestMapiNotificationVerifiesWithNotifyVerify(t *testing.T) {
	s := testkit.StartSandbox(t)
	m := newMapi(t, s)
	ep := testkit.ServeEndpoint(t, s, gateway.Alipay, m)
	tr := payLegacy(t, s, "MAPI-OK", 12345, sandbox.Fault{})
	v, r, bodies := ep.Take()
	if len(v) != 1 || len(r) != 0 {
		t.Fatalf("verified %+v, rejected %v", v, r)
	}
	n := v[0]
	if n.Event != gateway.EventPayment || n.OutTradeNo != "MAPI-OK" || n.TradeNo != tr.TradeNo || n.Amount != 12345 ||
		n.PlatformState != "TRADE_SUCCESS" || !n.PaidAt.Equal(tr.PaidAt) || n.NotifyID == "" {
		t.Fatalf("normalized: %+v", n)
	}
	// The wire form is the legacy gateway's: MD5, total_fee in yuan, no
	// app_id, the partner as seller_id.
	f, _ := url.ParseQuery(string(bodies[0]))
	k := testkit.SandboxKeys(t)
	if f.Get("sign_type") != "MD5" || f.Get("total_fee") != "123.45" || f.Get("app_id") != "" || f.Get("seller_id") != k.AlipayPID || len(f.Get("sign")) != 32 {
		t.Fatalf("form: %v", f)
	}
	// Signed independently of the code under test: MD5 of the sorted
	// k=v&... (without sign, sign_type) with the key appended.
	var keys []string
	for key := range f {
		if key != "sign" && key != "sign_type" && f.Get(key) != "" {
			keys = append(keys, key)
		}
	}
	sort.Strings(keys)
	var content []string
	for _, key := range keys {
		content = append(content, key+"="+f.Get(key))
	}
	sum := md5.Sum([]byte(strings.Join(content, "&") + k.AlipayMD5Key))
	if hex.EncodeToString(sum[:]) != f.Get("sign") {
		t.Fatal("the sandbox's sign is not MD5(content + key)")
	}
	for _, d := range s.Deliveries() {
		if !d.Acked {
			t.Fatalf("not acknowledged: %+v", d)
		}
	}
}

func TestMapiForgedOrDeniedNotificationsAreRefused(t *testing.T) {
	s := testkit.StartSandbox(t)
	k := testkit.SandboxKeys(t)
	for _, c := range []struct {
		name  string
		p     *alipay.Mapi
		fault sandbox.Fault
		want  error
	}{
		{"forged (another key)", newMapi(t, s), sandbox.Fault{BadSignature: true}, gateway.ErrBadSignature},
		{"total_fee tampered", newMapi(t, s), sandbox.Fault{TamperAmount: -12000}, gateway.ErrBadSignature},
		{"notify_id denied", newMapi(t, s), sandbox.Fault{DenyNotifyID: true}, gateway.ErrBadSignature},
		{"another partner", newMapi(t, s, func(c *alipay.MapiConfig) { c.PID = "2088999999999999" }), sandbox.Fault{}, gateway.ErrWrongMerchant},
		{"another partner's key", newMapi(t, s, func(c *alipay.MapiConfig) { c.MD5Key = strings.Repeat("z", 32) }), sandbox.Fault{}, gateway.ErrBadSignature},
	} {
		ep := testkit.ServeEndpoint(t, s, gateway.Alipay, c.p)
		payLegacy(t, s, "MAPI-"+strings.ReplaceAll(c.name, " ", "-"), 12345, c.fault)
		for _, err := range ep.Refused(t, c.name, c.want) {
			if strings.Contains(err.Error(), k.AlipayMD5Key) {
				t.Errorf("%s: the error shows the key", c.name)
			}
		}
	}
}

// notify_id is confirmed only while the gateway vouches for it; a gateway
// that cannot be asked is paydesk's failure (Alipay resends), not a
// rejection of the notification.
func TestMapiNotifyIDLapsesAndTheGatewayMustAnswer(t *testing.T) {
	s := testkit.StartSandbox(t, func(c *sandbox.Config) { c.MapiNotifyIDLife = 300 * time.Millisecond })
	m := newMapi(t, s)
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ = io.ReadAll(r.Body)
		_, _ = io.WriteString(w, "success")
	}))
	defer srv.Close()
	s.SetNotifyURL(gateway.Alipay, srv.URL)
	payLegacy(t, s, "MAPI-LAPSE", 500, sandbox.Fault{})
	if _, err := m.VerifyNotification(nil, body, time.Now()); err != nil {
		t.Fatalf("fresh: %v", err)
	}
	time.Sleep(400 * time.Millisecond)
	if _, err := m.VerifyNotification(nil, body, time.Now()); !errors.Is(err, gateway.ErrBadSignature) {
		t.Fatalf("lapsed notify_id: %v", err)
	}
	down := newMapi(t, s, func(c *alipay.MapiConfig) { c.GatewayURL = "http://127.0.0.1:1/gateway.do" })
	if _, err := down.VerifyNotification(nil, body, time.Now()); err == nil || gateway.IsRejection(err) {
		t.Fatalf("gateway unreachable: %v", err)
	}
}

func TestMerchantTakesBothAlipayGateways(t *testing.T) {
	s := testkit.StartSandbox(t)
	app, err := alipay.New(clientConfig(t, s, false))
	if err != nil {
		t.Fatal(err)
	}
	m, err := alipay.NewMerchant(app, newMapi(t, s))
	if err != nil {
		t.Fatal(err)
	}
	ep := testkit.ServeEndpoint(t, s, gateway.Alipay, m)
	payLegacy(t, s, "BOTH-LEGACY", 100, sandbox.Fault{})
	paid(t, s, "BOTH-OPENAPI", 200, time.Now())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitDelivered(ctx); err != nil {
		t.Fatal(err)
	}
	v, r, _ := ep.Take()
	if len(v) != 2 || len(r) != 0 {
		t.Fatalf("verified %+v, rejected %v", v, r)
	}
	if _, err := m.QueryTrade(ctx, "BOTH-OPENAPI"); err != nil {
		t.Fatal(err)
	}

	// A partner without an OpenAPI app only receives notifications.
	legacyOnly, err := alipay.NewMerchant(nil, newMapi(t, s))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := legacyOnly.QueryTrade(ctx, "BOTH-OPENAPI"); err == nil || !strings.Contains(err.Error(), "app_id") {
		t.Fatalf("query without an app: %v", err)
	}
	if _, err := legacyOnly.VerifyNotification(nil, []byte("app_id=1&sign_type=RSA2&sign=x"), time.Now()); !errors.Is(err, gateway.ErrBadSignature) {
		t.Fatalf("an OpenAPI notification to a partner without an app: %v", err)
	}
	appOnly, _ := alipay.NewMerchant(app, nil)
	if _, err := appOnly.VerifyNotification(nil, []byte("sign_type=MD5&sign=x&notify_id=1"), time.Now()); err == nil || gateway.IsRejection(err) {
		t.Fatalf("a legacy notification without the partner: %v", err)
	}
	// The form is parsed once for routing and verifying: a body that
	// parses but is not a notification's is refused by the verifier it
	// names, as when each parsed it on its own.
	if _, err := appOnly.VerifyNotification(nil, []byte("sign_type=MD5&sign=x&sign=y"), time.Now()); err == nil || gateway.IsRejection(err) {
		t.Fatalf("a malformed legacy notification without the partner: %v", err)
	}
	for _, body := range []string{"sign_type=RSA2&sign=x&sign=y", "sign_type=RSA2&a=%zz", "sign_type=MD5&sign=x&sign=y"} {
		if _, err := m.VerifyNotification(nil, []byte(body), time.Now()); !errors.Is(err, gateway.ErrMalformed) {
			t.Fatalf("%s: %v", body, err)
		}
	}
}

func TestNewMapiChecks(t *testing.T) {
	for name, cfg := range map[string]alipay.MapiConfig{
		"pid":     {PID: "1234", MD5Key: strings.Repeat("a", 32)},
		"key":     {PID: "2088000100000001", MD5Key: "short"},
		"gateway": {PID: "2088000100000001", MD5Key: strings.Repeat("a", 32), GatewayURL: "ftp://x"},
	} {
		if _, err := alipay.NewMapi(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
