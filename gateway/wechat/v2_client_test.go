package wechat_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/gateway/wechat"
	"github.com/paydesk/paydesk/internal/testkit"
)

// v2Config is a v2-only merchant's client config for the sandbox: its
// HTTPS URL and CA, the API key, and the merchant API certificate.
func v2Config(t testing.TB, s *sandbox.Server, signType string) wechat.V2Config {
	t.Helper()
	k := testkit.SandboxKeys(t)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(s.CACertPEM())
	return wechat.V2Config{MchID: k.WeChatMchID, AppID: k.WeChatAppID, APIKey: k.WeChatV2APIKey, SignType: signType,
		CertPEM: s.MerchantCertPEM(), KeyPEM: sandbox.PrivateKeyPEM(k.WeChatMerchantKey),
		BaseURL: s.TLSURL(), RootCAs: roots}
}

func newV2(t testing.TB, cfg wechat.V2Config) *wechat.V2Client {
	t.Helper()
	c, err := wechat.NewV2(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestV2ClientAgainstTheSandbox(t *testing.T) {
	for _, st := range []string{wechat.SignMD5, wechat.SignHMACSHA256} {
		t.Run(st, func(t *testing.T) {
			s := testkit.StartSandbox(t)
			ctx := context.Background()
			paidAt := yesterday()
			tr := paidTrade(t, s, "V2-ORDER-1", 2500, paidAt)
			c := newV2(t, v2Config(t, s, st))

			got, err := c.QueryTrade(ctx, "V2-ORDER-1")
			if err != nil {
				t.Fatal(err)
			}
			if got.State != gateway.TradePaid || got.Amount != 2500 || got.TradeNo != tr.TradeNo || !got.PaidAt.Equal(paidAt) || got.Currency != "CNY" || got.BuyerID == "" {
				t.Fatalf("query: %+v", got)
			}
			if _, err := c.QueryTrade(ctx, "NO-SUCH"); !errors.Is(err, gateway.ErrTradeNotFound) {
				t.Fatalf("unknown order: %v", err)
			}
			if _, err := s.CreateTrade(sandbox.TradeSpec{Channel: gateway.WeChat, OutTradeNo: "V2-UNPAID", Amount: 100}); err != nil {
				t.Fatal(err)
			}
			if u, err := c.QueryTrade(ctx, "V2-UNPAID"); err != nil || u.State != gateway.TradeNotPaid || u.IsPaid() {
				t.Fatalf("unpaid: %+v %v", u, err)
			}

			req := gateway.RefundRequest{OutTradeNo: "V2-ORDER-1", OutRequestNo: "V2-REFUND-1", Amount: 500, Total: 2500, Currency: "CNY", Reason: "测试"}
			r, err := c.Refund(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			// v2 says the request was accepted; the outcome comes later.
			if r.Status != gateway.RefundPending || r.Amount != 500 || r.RefundID == "" {
				t.Fatalf("refund: %+v", r)
			}
			again, err := c.Refund(ctx, req)
			if err != nil || again.RefundID != r.RefundID {
				t.Fatalf("the same out_refund_no again: %+v %v", again, err)
			}
			q, err := c.QueryRefund(ctx, "V2-ORDER-1", "V2-REFUND-1")
			if err != nil || q.Status != gateway.RefundSuccess || q.Amount != 500 || q.RefundID != r.RefundID || q.RefundedAt.IsZero() {
				t.Fatalf("refund query: %+v %v", q, err)
			}
			if _, err := c.QueryRefund(ctx, "", "NO-SUCH-REFUND"); !errors.Is(err, gateway.ErrRefundNotFound) {
				t.Fatalf("unknown refund: %v", err)
			}
			if _, err := c.QueryRefund(ctx, "OTHER-ORDER", "V2-REFUND-1"); err == nil {
				t.Fatal("a refund of another order was accepted")
			}
			req.OutRequestNo, req.Amount = "V2-REFUND-2", 2001
			var ae *wechat.APIError
			if _, err := c.Refund(ctx, req); !errors.As(err, &ae) || errors.Is(err, gateway.ErrUnknownOutcome) {
				t.Fatalf("a refund over the ceiling: %v", err)
			}

			var bill bytes.Buffer
			f, err := c.DownloadBill(ctx, paidAt, &bill)
			if err != nil {
				t.Fatal(err)
			}
			br, err := c.OpenBill(f.Name, &bill)
			if err != nil {
				t.Fatal(err)
			}
			if lines := billLines(t, br); len(lines) != 1 || lines[0].TradeNo != tr.TradeNo || lines[0].Amount != 2500 {
				t.Fatalf("bill: %+v", lines)
			}
			if _, err := c.DownloadBill(ctx, time.Date(2001, 1, 1, 12, 0, 0, 0, gateway.Shanghai), &bytes.Buffer{}); !errors.Is(err, gateway.ErrBillNotReady) {
				t.Fatalf("a day without a bill: %v", err)
			}
		})
	}
}

func TestV2RefundNeedsTheCertificate(t *testing.T) {
	s := testkit.StartSandbox(t)
	paidTrade(t, s, "V2-NOCERT", 900, yesterday())
	cfg := v2Config(t, s, "")
	cfg.CertPEM, cfg.KeyPEM = nil, nil
	c := newV2(t, cfg)
	_, err := c.Refund(context.Background(), gateway.RefundRequest{OutTradeNo: "V2-NOCERT", OutRequestNo: "R", Amount: 100, Total: 900})
	if err == nil || errors.Is(err, gateway.ErrUnknownOutcome) || !strings.Contains(err.Error(), "apiclient_cert_file") {
		t.Fatalf("refund without a certificate: %v", err)
	}
	if tr, _ := s.Trade(gateway.WeChat, "V2-NOCERT"); len(tr.Refunds) != 0 {
		t.Fatal("refunded")
	}
}

// A damaged or forged answer is never a result: a query fails, a refund's
// outcome is unknown (it may have been made, so it stays PENDING).
func TestV2AnswersMustVerify(t *testing.T) {
	s := testkit.StartSandbox(t)
	k := testkit.SandboxKeys(t)
	paidTrade(t, s, "V2-FLIP", 900, yesterday())
	// A proxy in the middle: it holds the merchant certificate towards the
	// sandbox and changes one byte of every answer.
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(s.CACertPEM())
	cert, err := tls.X509KeyPair(s.MerchantCertPEM(), sandbox.PrivateKeyPEM(k.WeChatMerchantKey))
	if err != nil {
		t.Fatal(err)
	}
	up, _ := url.Parse(s.TLSURL())
	proxy := httputil.NewSingleHostReverseProxy(up)
	flip := &flipTransport{prefix: "/"}
	proxy.Transport = flip
	flip.next = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{cert}}}
	mitm := httptest.NewTLSServer(proxy)
	defer mitm.Close()
	cfg := v2Config(t, s, "")
	cfg.BaseURL = mitm.URL
	cfg.RootCAs = x509.NewCertPool()
	cfg.RootCAs.AddCert(mitm.Certificate())
	c := newV2(t, cfg)

	if tr, err := c.QueryTrade(context.Background(), "V2-FLIP"); err == nil {
		t.Fatalf("a damaged query answer was believed: %+v", tr)
	}
	_, err = c.Refund(context.Background(), gateway.RefundRequest{OutTradeNo: "V2-FLIP", OutRequestNo: "R1", Amount: 100, Total: 900})
	if !errors.Is(err, gateway.ErrUnknownOutcome) {
		t.Fatalf("a damaged refund answer: %v", err)
	}
	if flip.flipped.Load() < 2 {
		t.Fatalf("%d answers damaged", flip.flipped.Load())
	}
	if tr, _ := s.Trade(gateway.WeChat, "V2-FLIP"); len(tr.Refunds) != 1 {
		t.Fatalf("the platform made %d refunds; the answer was lost, not the refund", len(tr.Refunds))
	}

	other := v2Config(t, s, "")
	other.MchID = "1900000999"
	if _, err := newV2(t, other).QueryTrade(context.Background(), "V2-FLIP"); err == nil {
		t.Fatal("another merchant's query was answered")
	}
}

func TestV2ConfigChecks(t *testing.T) {
	s := testkit.StartSandbox(t)
	good := v2Config(t, s, "")
	for name, mutate := range map[string]func(*wechat.V2Config){
		"short key":      func(c *wechat.V2Config) { c.APIKey = "short" },
		"sign type":      func(c *wechat.V2Config) { c.SignType = "SHA1" },
		"no mchid":       func(c *wechat.V2Config) { c.MchID = "" },
		"cert only":      func(c *wechat.V2Config) { c.KeyPEM = nil },
		"mismatched":     func(c *wechat.V2Config) { c.KeyPEM = sandbox.PrivateKeyPEM(testkit.SandboxKeys(t).AlipayAppKey) },
		"base with path": func(c *wechat.V2Config) { c.BaseURL += "/prefix" },
	} {
		cfg := good
		mutate(&cfg)
		if _, err := wechat.NewV2(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), testkit.SandboxKeys(t).WeChatV2APIKey) {
			t.Errorf("%s: the error shows the key", name)
		}
	}
}
