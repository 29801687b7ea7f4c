package wechat_test

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/gateway/wechat"
	"github.com/paydesk/paydesk/internal/testkit"
)

// config is the client configuration matching the sandbox's test keys.
func config(t testing.TB, s *sandbox.Server) wechat.Config {
	t.Helper()
	k := testkit.SandboxKeys(t)
	return wechat.Config{
		MchID: k.WeChatMchID, AppID: k.WeChatAppID, MerchantSerialNo: k.WeChatMerchantSerialNo,
		PrivateKeyPEM:        sandbox.PrivateKeyPEM(k.WeChatMerchantKey),
		APIv3Key:             k.WeChatAPIv3Key,
		PlatformPublicKeyID:  k.WeChatPlatformKeyID,
		PlatformPublicKeyPEM: sandbox.PublicKeyPEM(&k.WeChatPlatformKey.PublicKey),
		BaseURL:              s.URL(),
	}
}

func newClient(t testing.TB, s *sandbox.Server, mutate ...func(*wechat.Config)) *wechat.Client {
	t.Helper()
	cfg := config(t, s)
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := wechat.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// paidTrade creates a WeChat trade at the sandbox and pays it at paidAt.
func paidTrade(t testing.TB, s *sandbox.Server, out string, amount gateway.Money, paidAt time.Time) *sandbox.Trade {
	t.Helper()
	if _, err := s.CreateTrade(sandbox.TradeSpec{Channel: gateway.WeChat, OutTradeNo: out, Amount: amount, Subject: "测试商品 " + out, CreatedAt: paidAt.Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	tr, err := s.Pay(gateway.WeChat, out, paidAt)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// flipTransport changes one byte of the body of answers whose request path
// starts with prefix, as a damaged or tampered answer would arrive. It
// counts the answers it changed.
type flipTransport struct {
	prefix  string
	flipped atomic.Int32
	next    http.RoundTripper // nil: http.DefaultTransport
}

func (f *flipTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	next := f.next
	if next == nil {
		next = http.DefaultTransport
	}
	resp, err := next.RoundTrip(req)
	if err != nil || !strings.HasPrefix(req.URL.Path, f.prefix) {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if len(body) > 0 {
		i := len(body) / 2
		body[i] ^= 0x01
		f.flipped.Add(1)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// toSandbox sends the unmodified SDK's requests (always to WeChat's host)
// to the sandbox, without touching anything else.
type toSandbox struct {
	base *url.URL
	next http.RoundTripper
}

func (t toSandbox) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	if r.URL.Host == "api.mch.weixin.qq.com" {
		r.URL.Scheme, r.URL.Host, r.Host = t.base.Scheme, t.base.Host, ""
	}
	next := t.next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(r)
}

// yesterday is noon of the business day before today in Shanghai: bills
// exist for past days only.
func yesterday() time.Time {
	start, _ := gateway.Day(time.Now(), gateway.Shanghai)
	return start.AddDate(0, 0, -1).Add(12 * time.Hour)
}
