package serve_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/internal/config"
	"github.com/paydesk/paydesk/internal/testenv"
	"github.com/paydesk/paydesk/internal/testkit"
	"github.com/paydesk/paydesk/store"
)

// notifications lists every stored callback.
func notifications(t *testing.T, st *store.Store) []store.Notification {
	t.Helper()
	all, err := st.ListNotifications(context.Background(), store.NotificationFilter{}, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// TestWeChatCertificateSignedCallbacks: WeChat signs with its platform
// certificate. A merchant configured with the certificate (file or
// download) gets PAID, the notification naming the certificate that
// verified it. Configured with the public key alone, as every merchant had
// to be before issue 11, the callback is stored, answered 401 and listed
// with the serial it named.
func TestWeChatCertificateSignedCallbacks(t *testing.T) {
	signCert := func(c *sandbox.Config) { c.WeChatSign = sandbox.WeChatSignCert }
	for _, tc := range []struct {
		name   string
		config func(*sandbox.Server, *config.Config)
		paid   bool
	}{
		{"certificate file", nil, true}, // the sandbox's client config in certificate mode
		{"certificate download", testenv.CertDownload, true},
		{"public key only", testenv.PubKeyOnly, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := testenv.New(t, testenv.Options{Serve: true, Sandbox: signCert, Config: tc.config})
			o := testenv.Order{OutTradeNo: "PDCERT000001", Channel: gateway.WeChat, Amount: 1200}
			env.ImportOrders(t, o)
			env.Pay(t, o, time.Time{})
			env.WaitDelivered(t, 20*time.Second)
			got, _ := env.Store.GetOrder(context.Background(), o.OutTradeNo)
			ns := notifications(t, env.Store)
			serial := env.Sandbox.WeChatCert().Serial
			if tc.paid {
				if got.Status != store.OrderPaid || len(ns) != 1 || ns[0].ApplyStatus != store.ApplyApplied ||
					ns[0].VerifyKey != "platform certificate "+serial {
					t.Fatalf("order %s; notifications %+v", got.Status, ns)
				}
				return
			}
			if got.Status != store.OrderPending || len(ns) == 0 {
				t.Fatalf("order %s after a certificate-signed callback to a public-key merchant; %d stored", got.Status, len(ns))
			}
			for _, n := range ns {
				if n.VerifyStatus != store.Rejected || n.VerifyKey != "unknown serial "+serial || !strings.Contains(n.VerifyError, serial) {
					t.Fatalf("stored: %+v", n)
				}
			}
			for _, d := range env.Sandbox.Deliveries() {
				if d.Acked || d.LastStatus != http.StatusUnauthorized {
					t.Fatalf("delivery %+v, want 401 and never acknowledged", d)
				}
			}
		})
	}
}

// mixedPayments is how many payments TestWeChatMixedSigning makes: 1,000
// by default (a few seconds), 200 with -short.
func mixedPayments() int {
	if testing.Short() {
		return 200
	}
	return 1000
}

// TestWeChatMixedSigning: through the sandbox in mixed mode, every
// callback signed by the certificate or the public key at random, half and
// half; the merchant has both. Every order is PAID exactly once and no
// callback is refused.
func TestWeChatMixedSigning(t *testing.T) {
	// The sandbox's client config in mixed mode has both keys.
	env := testenv.New(t, testenv.Options{Serve: true,
		Sandbox: func(c *sandbox.Config) { c.WeChatSign = sandbox.WeChatSignMixed; c.DeliveryTimeout = time.Minute }})
	n := mixedPayments()
	var orders []testenv.Order
	for i := range n {
		orders = append(orders, testenv.Order{OutTradeNo: fmt.Sprintf("PDMIX%07d", i), Channel: gateway.WeChat, Amount: gateway.Money(100 + i)})
	}
	env.ImportOrders(t, orders...)
	for _, o := range orders {
		env.Pay(t, o, time.Time{})
	}
	env.WaitDelivered(t, 2*time.Minute)

	ctx := context.Background()
	paid, err := env.Store.CountOrders(ctx, store.OrderFilter{Status: store.OrderPaid})
	if err != nil || paid != n {
		t.Fatalf("%d of %d orders PAID (%v)", paid, n, err)
	}
	ns := notifications(t, env.Store)
	byKey := map[string]int{}
	for _, x := range ns {
		if x.ApplyStatus != store.ApplyApplied || x.Attempts != 1 {
			t.Fatalf("notification %d: %s after %d attempts: %s %s", x.ID, x.ApplyStatus, x.Attempts, x.VerifyError, x.ApplyDetail)
		}
		byKey[x.VerifyKey]++
	}
	cert, pub := byKey["platform certificate "+env.Sandbox.WeChatCert().Serial], byKey["public key "+testkit.SandboxKeys(t).WeChatPlatformKeyID]
	if len(ns) != n || cert+pub != n || cert < n*2/5 || pub < n*2/5 {
		t.Fatalf("%d callbacks for %d payments; verified by certificate %d, public key %d (%v)", len(ns), n, cert, pub, byKey)
	}
	for _, d := range env.Sandbox.Deliveries() {
		if !d.Acked || d.Attempts != 1 {
			t.Fatalf("delivery %+v: every callback is accepted at once", d)
		}
	}
}

// TestAlipayRSAApp: an older app configured sign_type = "RSA". Its
// SHA1-signed callbacks verify and apply, and its API calls (SHA1 requests,
// SHA1 answers) work. Before issue 11 every such callback was refused.
func TestAlipayRSAApp(t *testing.T) {
	// The sandbox's client config for an RSA app says sign_type = "RSA".
	env := testenv.New(t, testenv.Options{Serve: true, Sandbox: func(c *sandbox.Config) { c.AlipaySignType = "RSA" }})
	if env.Sandbox.Keys().AlipayAppID == "" {
		t.Fatal("no Alipay app")
	}
	ctx := context.Background()
	o := testenv.Order{OutTradeNo: "PDRSA1000001", Channel: gateway.Alipay, Amount: 2500}
	env.ImportOrders(t, o)
	env.Pay(t, o, time.Time{})
	env.WaitDelivered(t, 20*time.Second)
	ns := notifications(t, env.Store)
	if len(ns) != 1 || ns[0].ApplyStatus != store.ApplyApplied || ns[0].VerifyKey != "RSA (SHA1) Alipay public key" {
		t.Fatalf("RSA callback: %+v", ns)
	}
	if body := string(ns[0].Body); !strings.Contains(body, "sign_type=RSA&") && !strings.HasSuffix(body, "sign_type=RSA") {
		t.Fatalf("the stored callback is not sign_type RSA: %s", body)
	}
	if r, err := env.Service.QueryTrade(ctx, o.OutTradeNo); err != nil || r.Trade.State != gateway.TradePaid {
		t.Fatalf("query of an RSA app: %+v, %v", r, err)
	}
	if out, err := env.Service.Refund(ctx, o.OutTradeNo, 500, "RSA app refund"); err != nil || out.Refund.Status != gateway.RefundSuccess {
		t.Fatalf("refund of an RSA app: %+v, %v", out, err)
	}
}

// TestAlipayRSAIsRefusedAsADowngrade: an RSA2 app never takes SHA1: a
// callback signed RSA is stored and rejected, and an RSA-signed answer is
// not an answer.
func TestAlipayRSAIsRefusedAsADowngrade(t *testing.T) {
	env := testenv.New(t, testenv.Options{Serve: true})
	ctx := context.Background()
	o := testenv.Order{OutTradeNo: "PDRSA2000001", Channel: gateway.Alipay, Amount: 2500}
	env.ImportOrders(t, o)
	env.Sandbox.SetFault(gateway.Alipay, o.OutTradeNo, sandbox.Fault{NotifySignType: "RSA"})
	env.Pay(t, o, time.Time{})
	env.WaitDelivered(t, 20*time.Second)
	for _, n := range notifications(t, env.Store) {
		if n.VerifyStatus != store.Rejected || !strings.Contains(n.VerifyError, "downgrade") {
			t.Fatalf("RSA callback to an RSA2 app: %+v", n)
		}
	}
	if got, _ := env.Store.GetOrder(ctx, o.OutTradeNo); got.Status != store.OrderPending {
		t.Fatalf("order %s", got.Status)
	}
	env.Sandbox.SetFault(gateway.Alipay, "", sandbox.Fault{AnswerSignType: "RSA"})
	if r, err := env.Service.QueryTrade(ctx, o.OutTradeNo); !errors.Is(err, gateway.ErrBadSignature) || r.Applied {
		t.Fatalf("an RSA-signed answer to an RSA2 app: %+v, %v", r, err)
	}
}

// TestAlipayGBKCallback: a trade created in GBK gets its callbacks in GBK:
// the form is GBK bytes percent-encoded and signed over those bytes. It
// verifies, applies, and replays; the stored body is the GBK as sent.
func TestAlipayGBKCallback(t *testing.T) {
	env := testenv.New(t, testenv.Options{Serve: true, Sandbox: func(c *sandbox.Config) { c.AlipayCharset = "gbk" }})
	ctx := context.Background()
	o := testenv.Order{OutTradeNo: "PDGBK0000001", Channel: gateway.Alipay, Amount: 880}
	env.ImportOrders(t, o)
	if _, err := env.Sandbox.CreateTrade(sandbox.TradeSpec{Channel: gateway.Alipay, OutTradeNo: o.OutTradeNo, Amount: o.Amount, Subject: "测试商品·年货"}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Sandbox.Pay(gateway.Alipay, o.OutTradeNo, time.Time{}); err != nil {
		t.Fatal(err)
	}
	env.WaitDelivered(t, 20*time.Second)
	ns := notifications(t, env.Store)
	if len(ns) != 1 || ns[0].ApplyStatus != store.ApplyApplied {
		t.Fatalf("GBK callback: %+v", ns)
	}
	gbk, _ := simplifiedchinese.GBK.NewEncoder().String("测试商品")
	if !bytes.Contains(ns[0].Body, []byte("charset=gbk")) || !bytes.Contains(ns[0].Body, []byte(urlEscapeBytes(gbk))) {
		t.Fatalf("stored body is not the GBK form: %s", ns[0].Body)
	}
	// The signature covers the GBK bytes: the same form re-encoded in
	// UTF-8 (what a verifier that decodes first would check) fails.
	form, err := url.ParseQuery(string(ns[0].Body))
	if err != nil {
		t.Fatal(err)
	}
	dec := simplifiedchinese.GBK.NewDecoder()
	for k, v := range form {
		u, _ := dec.String(v[0])
		form.Set(k, u)
	}
	if _, err := env.Platforms[gateway.Alipay].VerifyNotification(ns[0].Header, []byte(form.Encode()), ns[0].ReceivedAt); !errors.Is(err, gateway.ErrBadSignature) {
		t.Fatalf("the callback re-encoded in UTF-8 still verified: %v", err)
	}
	r, err := env.Service.ReplayNotification(ctx, ns[0].ID)
	if err != nil || r.Verify != store.Verified || r.Apply != store.ApplyDuplicate {
		t.Fatalf("replay: %+v, %v", r, err)
	}
}

// urlEscapeBytes percent-encodes every byte as a form does.
func urlEscapeBytes(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, "%%%02X", s[i])
	}
	return b.String()
}
