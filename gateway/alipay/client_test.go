package alipay_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/alipay"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/internal/testkit"
)

func newClock(t time.Time) *testkit.Clock { return testkit.NewClock(t) }

var testCerts = sync.OnceValues(func() (*sandbox.AlipayCerts, error) {
	k, err := testkit.LoadSandboxKeys()
	if err != nil {
		return nil, err
	}
	return sandbox.NewAlipayCerts(k)
})

// clientConfig is what a merchant would configure for this sandbox.
func clientConfig(t *testing.T, s *sandbox.Server, certMode bool) alipay.Config {
	t.Helper()
	k := testkit.SandboxKeys(t)
	cfg := alipay.Config{
		AppID:         k.AlipayAppID,
		PrivateKeyPEM: sandbox.PrivateKeyPEM(k.AlipayAppKey),
		GatewayURL:    s.URL() + sandbox.AlipayGatewayPath,
		HTTPClient:    &http.Client{Timeout: 5 * time.Second},
	}
	if certMode {
		certs, err := testCerts()
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetAlipayCertMode(certs); err != nil {
			t.Fatal(err)
		}
		cfg.AppCertPEM, cfg.AlipayCertPEM, cfg.AlipayRootCertPEM = certs.AppCertPEM, certs.AlipayCertPEM, certs.RootPEM
	} else {
		cfg.AlipayPublicKeyPEM = sandbox.PublicKeyPEM(&k.AlipayPlatformKey.PublicKey)
	}
	return cfg
}

func start(t *testing.T, certMode bool, clk *testkit.Clock, transport http.RoundTripper) (*sandbox.Server, *alipay.Client) {
	t.Helper()
	s := testkit.StartSandbox(t, func(c *sandbox.Config) { c.Now = clk.Now })
	cfg := clientConfig(t, s, certMode)
	cfg.HTTPClient.Transport = transport
	c, err := alipay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

func modes(t *testing.T, f func(t *testing.T, certMode bool)) {
	t.Run("public-key", func(t *testing.T) { f(t, false) })
	t.Run("certificate", func(t *testing.T) { f(t, true) })
}

func paid(t *testing.T, s *sandbox.Server, out string, amount gateway.Money, at time.Time) {
	t.Helper()
	if _, err := s.CreateTrade(sandbox.TradeSpec{Channel: gateway.Alipay, OutTradeNo: out, Amount: amount, Subject: "洗衣订单", CreatedAt: at.Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pay(gateway.Alipay, out, at); err != nil {
		t.Fatal(err)
	}
}

func TestClientAgainstSandbox(t *testing.T) {
	modes(t, func(t *testing.T, certMode bool) {
		ctx := context.Background()
		clk := newClock(testkit.Time(t, "2026-11-22T15:00:00+08:00"))
		s, c := start(t, certMode, clk, nil)
		paidAt := testkit.Time(t, "2026-11-22T10:00:00+08:00")
		paid(t, s, "PDKA7F3K9Q", 1000, paidAt)

		tr, err := c.QueryTrade(ctx, "PDKA7F3K9Q")
		if err != nil {
			t.Fatal(err)
		}
		if tr.State != gateway.TradePaid || tr.Amount != 1000 || !tr.PaidAt.Equal(paidAt) || tr.PlatformState != "TRADE_SUCCESS" || !bytes.Contains(tr.Raw, []byte(`"sign"`)) {
			t.Fatalf("query: %+v", tr)
		}
		if _, err := c.QueryTrade(ctx, "NOSUCHORDER"); !errors.Is(err, gateway.ErrTradeNotFound) {
			t.Fatalf("unknown order: %v", err)
		}

		res, err := c.Refund(ctx, gateway.RefundRequest{OutTradeNo: "PDKA7F3K9Q", OutRequestNo: "RQ1", Amount: 300, Reason: "污渍未洗净"})
		if err != nil || res.Status != gateway.RefundSuccess || res.Amount != 300 || res.RefundedAt.IsZero() {
			t.Fatalf("refund: %+v, %v", res, err)
		}
		// A re-sent request is the same refund (fund_change=N, settled by the query).
		res, err = c.Refund(ctx, gateway.RefundRequest{OutTradeNo: "PDKA7F3K9Q", OutRequestNo: "RQ1", Amount: 300})
		if err != nil || res.Status != gateway.RefundSuccess || res.Amount != 300 {
			t.Fatalf("re-sent refund: %+v, %v", res, err)
		}
		_, err = c.Refund(ctx, gateway.RefundRequest{OutTradeNo: "PDKA7F3K9Q", OutRequestNo: "RQ2", Amount: 701})
		var apiErr *alipay.APIError
		if !errors.As(err, &apiErr) || apiErr.SubCode != "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL" || !apiErr.Verified || errors.Is(err, gateway.ErrUnknownOutcome) {
			t.Fatalf("refund over the ceiling must be a definite refusal: %v", err)
		}
		if !strings.Contains(err.Error(), "退款金额超限") {
			t.Errorf("refusal should carry sub_msg: %v", err)
		}

		q, err := c.QueryRefund(ctx, "PDKA7F3K9Q", "RQ1")
		if err != nil || q.Status != gateway.RefundSuccess || q.Amount != 300 {
			t.Fatalf("refund query: %+v, %v", q, err)
		}
		if _, err := c.QueryRefund(ctx, "PDKA7F3K9Q", "RQ404"); !errors.Is(err, gateway.ErrRefundNotFound) {
			t.Fatalf("unknown request: %v", err)
		}
		if _, err := c.QueryRefund(ctx, "NOSUCHORDER", "RQ1"); !errors.Is(err, gateway.ErrRefundNotFound) {
			t.Fatalf("unknown order: %v", err)
		}

		// A full refund closes the trade; the client still sees it was paid.
		if res, err := c.Refund(ctx, gateway.RefundRequest{OutTradeNo: "PDKA7F3K9Q", OutRequestNo: "RQ3", Amount: 700}); err != nil || res.Status != gateway.RefundSuccess {
			t.Fatalf("rest of the refund: %+v, %v", res, err)
		}
		if tr, err := c.QueryTrade(ctx, "PDKA7F3K9Q"); err != nil || tr.State != gateway.TradeRefunded || tr.PlatformState != "TRADE_CLOSED" || !tr.IsPaid() {
			t.Fatalf("fully refunded trade: %+v, %v", tr, err)
		}
		if _, err := s.CreateTrade(sandbox.TradeSpec{Channel: gateway.Alipay, OutTradeNo: "PDKNEVERPAID", Amount: 500}); err != nil {
			t.Fatal(err)
		}
		if tr, err := c.QueryTrade(ctx, "PDKNEVERPAID"); err != nil || tr.State != gateway.TradeNotPaid {
			t.Fatalf("unpaid trade: %+v, %v", tr, err)
		}
		if _, err := s.CloseTrade(gateway.Alipay, "PDKNEVERPAID", time.Time{}); err != nil {
			t.Fatal(err)
		}
		if tr, err := c.QueryTrade(ctx, "PDKNEVERPAID"); err != nil || tr.State != gateway.TradeClosed || tr.IsPaid() {
			t.Fatalf("closed unpaid trade: %+v, %v", tr, err)
		}

		// Bills: not before the day is over; then the zip as served.
		var buf bytes.Buffer
		if _, err := c.DownloadBill(ctx, paidAt, &buf); !errors.Is(err, gateway.ErrBillNotReady) {
			t.Fatalf("bill of a day not over: %v", err)
		}
		clk.Set(testkit.Time(t, "2026-11-23T09:00:00+08:00"))
		bf, err := c.DownloadBill(ctx, paidAt, &buf)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(bf.Name, "_20261122.csv.zip") || bf.Size != int64(buf.Len()) || !bytes.HasPrefix(buf.Bytes(), []byte("PK\x03\x04")) {
			t.Fatalf("bill file: %+v (%d bytes)", bf, buf.Len())
		}
		lines, stated := readAll(t, bf.Name, buf.Bytes())
		if len(lines) != 3 || stated.Payments != 1 || stated.Refunds != 2 || stated.Net != 0 {
			t.Fatalf("bill: %d lines, stated %+v", len(lines), stated)
		}
		if l := lines[0]; l.Kind != gateway.LinePayment || l.OutTradeNo != "PDKA7F3K9Q" || l.Amount != 1000 || l.Fee != 6 || l.Subject != "洗衣订单" {
			t.Fatalf("payment line: %+v", l)
		}
		if l := lines[1]; l.Kind != gateway.LineRefund || l.OutRequestNo != "RQ1" || l.Amount != 300 || l.Net != -300 {
			t.Fatalf("refund line: %+v", l)
		}
	})
}

func readAll(t *testing.T, name string, data []byte) ([]gateway.BillLine, gateway.BillTotals) {
	t.Helper()
	r, err := alipay.OpenBill(name, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	out, err := testkit.ReadAll(r.Next)
	if err != nil {
		t.Fatal(err)
	}
	return out, r.Stated()
}

// flip changes one byte of the gateway's answers (see byteFlips).
type flip struct {
	match  string
	offset int
	hits   atomic.Int32
}

func (f *flip) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if i := bytes.Index(body, []byte(f.match)); i >= 0 {
		body[i+f.offset] ^= 1
		f.hits.Add(1)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

var byteFlips = []struct {
	name, match string
	offset      int
}{
	{"amount", `"total_amount":"1`, len(`"total_amount":"`)},
	{"status", `"code":"10000"`, len(`"code":"1000`)},
	{"signature", `"sign":"`, len(`"sign":"`) + 10},
}

func TestClientRejectsAnAnswerWithOneByteChanged(t *testing.T) {
	modes(t, func(t *testing.T, certMode bool) {
		clk := newClock(testkit.Time(t, "2026-11-22T15:00:00+08:00"))
		for _, tc := range byteFlips {
			t.Run(tc.name, func(t *testing.T) {
				f := &flip{match: tc.match, offset: tc.offset}
				s, c := start(t, certMode, clk, f)
				paid(t, s, "PDKFLIP01", 1000, testkit.Time(t, "2026-11-22T10:00:00+08:00"))
				_, err := c.QueryTrade(context.Background(), "PDKFLIP01")
				if f.hits.Load() == 0 {
					t.Fatal("nothing changed")
				}
				if !errors.Is(err, gateway.ErrBadSignature) {
					t.Fatalf("changed query answer: %v", err)
				}
				// A changed answer to a refund leaves its outcome open.
				_, err = c.Refund(context.Background(), gateway.RefundRequest{OutTradeNo: "PDKFLIP01", OutRequestNo: "R1", Amount: 100})
				if tc.name != "amount" && !errors.Is(err, gateway.ErrUnknownOutcome) {
					t.Fatalf("changed refund answer: %v", err)
				}
			})
		}
	})
}

func TestClientRefundOutcomeUnknown(t *testing.T) {
	ctx := context.Background()
	clk := newClock(testkit.Time(t, "2026-11-22T15:00:00+08:00"))
	s, c := start(t, false, clk, nil)
	paid(t, s, "PDKUNK001", 1000, testkit.Time(t, "2026-11-22T10:00:00+08:00"))

	s.SetFault(gateway.Alipay, "PDKUNK001", sandbox.Fault{ServerError: true})
	if _, err := c.Refund(ctx, gateway.RefundRequest{OutTradeNo: "PDKUNK001", OutRequestNo: "R1", Amount: 100}); !errors.Is(err, gateway.ErrUnknownOutcome) {
		t.Fatalf("5xx: %v", err)
	}

	// The platform refunds and the answer never comes.
	s.SetFault(gateway.Alipay, "PDKUNK001", sandbox.Fault{Hang: true})
	tctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	_, err := c.Refund(tctx, gateway.RefundRequest{OutTradeNo: "PDKUNK001", OutRequestNo: "R2", Amount: 400})
	cancel()
	if !errors.Is(err, gateway.ErrUnknownOutcome) {
		t.Fatalf("timeout: %v", err)
	}
	s.ClearFaults()
	// Re-sending the same request number learns the outcome without refunding twice.
	res, err := c.Refund(ctx, gateway.RefundRequest{OutTradeNo: "PDKUNK001", OutRequestNo: "R2", Amount: 400})
	if err != nil || res.Status != gateway.RefundSuccess || res.Amount != 400 {
		t.Fatalf("re-sent after timeout: %+v, %v", res, err)
	}
	if tr, _ := s.Trade(gateway.Alipay, "PDKUNK001"); len(tr.Refunds) != 1 {
		t.Fatalf("%d refunds in the book, want 1", len(tr.Refunds))
	}

	// Pending at the platform: PENDING here until it settles.
	s.SetFault(gateway.Alipay, "PDKUNK001", sandbox.Fault{RefundPending: true})
	res, err = c.Refund(ctx, gateway.RefundRequest{OutTradeNo: "PDKUNK001", OutRequestNo: "R3", Amount: 100})
	if err != nil || res.Status != gateway.RefundPending {
		t.Fatalf("pending refund: %+v, %v", res, err)
	}
	// Known to Alipay, no refund_status: "not received, or failed" per
	// Alipay's documentation, so not found (the cure: re-send the same
	// number and amount). Before issue 11 this was read as PENDING, and
	// `refund --retry` never re-sent it.
	if q, err := c.QueryRefund(ctx, "PDKUNK001", "R3"); !errors.Is(err, gateway.ErrRefundNotFound) {
		t.Fatalf("refund query without refund_status: %+v, %v", q, err)
	}
	if err := s.SettleRefund(gateway.Alipay, "PDKUNK001", "R3", true, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if q, err := c.QueryRefund(ctx, "PDKUNK001", "R3"); err != nil || q.Status != gateway.RefundSuccess {
		t.Fatalf("settled refund query: %+v, %v", q, err)
	}

	// Nobody listening at all.
	s.Close()
	if _, err := c.Refund(ctx, gateway.RefundRequest{OutTradeNo: "PDKUNK001", OutRequestNo: "R4", Amount: 100}); !errors.Is(err, gateway.ErrUnknownOutcome) {
		t.Fatalf("connection refused: %v", err)
	}
}

func TestClientUnsignedRefusalOfARefundIsNotDefinite(t *testing.T) {
	// A gateway rejection comes unsigned; for a refund it proves nothing.
	clk := newClock(testkit.Time(t, "2026-11-22T15:00:00+08:00"))
	s := testkit.StartSandbox(t, func(c *sandbox.Config) { c.Now = clk.Now })
	cfg := clientConfig(t, s, false)
	cfg.AppID = "2021999900000009"
	c, err := alipay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Refund(context.Background(), gateway.RefundRequest{OutTradeNo: "X", OutRequestNo: "R1", Amount: 100})
	var apiErr *alipay.APIError
	if !errors.Is(err, gateway.ErrUnknownOutcome) || !errors.As(err, &apiErr) || apiErr.Verified || apiErr.SubCode != "isv.invalid-app-id" {
		t.Fatalf("unsigned refusal: %v", err)
	}
	if _, err := c.QueryTrade(context.Background(), "X"); !errors.As(err, &apiErr) || errors.Is(err, gateway.ErrTradeNotFound) {
		t.Fatalf("unsigned answer must not prove anything: %v", err)
	}
}

func TestNewChecksTheConfiguration(t *testing.T) {
	k := testkit.SandboxKeys(t)
	certs, err := testCerts()
	if err != nil {
		t.Fatal(err)
	}
	base := alipay.Config{AppID: k.AlipayAppID, PrivateKeyPEM: sandbox.PrivateKeyPEM(k.AlipayAppKey), AlipayPublicKeyPEM: sandbox.PublicKeyPEM(&k.AlipayPlatformKey.PublicKey)}
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k.AlipayAppKey)})
	pubDER, _ := x509.MarshalPKIXPublicKey(&k.AlipayPlatformKey.PublicKey)
	otherCerts, err := sandbox.NewAlipayCerts(sandbox.Keys{AlipayAppID: k.AlipayAppID, AlipayAppKey: k.AlipayAppKey, AlipayPlatformKey: k.AlipayPlatformKey})
	if err != nil {
		t.Fatal(err)
	}
	good := map[string]func(c *alipay.Config){
		"PKCS#8 PEM":             func(c *alipay.Config) {},
		"PKCS#1 PEM":             func(c *alipay.Config) { c.PrivateKeyPEM = pkcs1 },
		"bare base64 public key": func(c *alipay.Config) { c.AlipayPublicKeyPEM = []byte(base64.StdEncoding.EncodeToString(pubDER)) },
		"certificates": func(c *alipay.Config) {
			c.AlipayPublicKeyPEM = nil
			c.AppCertPEM, c.AlipayCertPEM, c.AlipayRootCertPEM = certs.AppCertPEM, certs.AlipayCertPEM, certs.RootPEM
		},
	}
	for name, mut := range good {
		cfg := base
		mut(&cfg)
		if _, err := alipay.New(cfg); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	bad := map[string]func(c *alipay.Config){
		"no app id":      func(c *alipay.Config) { c.AppID = "" },
		"no private key": func(c *alipay.Config) { c.PrivateKeyPEM = nil },
		"garbage key": func(c *alipay.Config) {
			c.PrivateKeyPEM = []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
		},
		"no alipay key": func(c *alipay.Config) { c.AlipayPublicKeyPEM = nil },
		"both modes": func(c *alipay.Config) {
			c.AppCertPEM, c.AlipayCertPEM, c.AlipayRootCertPEM = certs.AppCertPEM, certs.AlipayCertPEM, certs.RootPEM
		},
		"half the certs": func(c *alipay.Config) { c.AlipayPublicKeyPEM, c.AppCertPEM = nil, certs.AppCertPEM },
		"app cert for other": func(c *alipay.Config) {
			c.AlipayPublicKeyPEM, c.AppCertPEM, c.AlipayCertPEM, c.AlipayRootCertPEM = nil, certs.AlipayCertPEM, certs.AlipayCertPEM, certs.RootPEM
		},
		"foreign root": func(c *alipay.Config) {
			c.AlipayPublicKeyPEM, c.AppCertPEM, c.AlipayCertPEM, c.AlipayRootCertPEM = nil, certs.AppCertPEM, certs.AlipayCertPEM, otherCerts.RootPEM
		},
	}
	for name, mut := range bad {
		cfg := base
		mut(&cfg)
		if _, err := alipay.New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
