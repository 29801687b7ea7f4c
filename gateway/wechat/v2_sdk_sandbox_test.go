package wechat_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/go-pay/gopay"
	gpwechat "github.com/go-pay/gopay/wechat"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/gateway/wechat"
	"github.com/paydesk/paydesk/internal/testkit"
)

// gopayClient is github.com/go-pay/gopay's v2 client exactly as a merchant
// builds it for production (isProd true); only its base URL is the
// sandbox's HTTPS one, and its HTTP clients trust the sandbox's CA, through
// the SDK's own setters.
func gopayClient(t testing.TB, s *sandbox.Server) *gpwechat.Client {
	t.Helper()
	k := testkit.SandboxKeys(t)
	c := gpwechat.NewClient(k.WeChatAppID, k.WeChatMchID, k.WeChatV2APIKey, true)
	c.SetProxyUrl(s.TLSURL())
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(s.CACertPEM())
	c.GetHttpClient().SetHttpTLSConfig(&tls.Config{RootCAs: roots})
	c.GetTLSHttpClient().SetHttpTLSConfig(&tls.Config{RootCAs: roots})
	return c
}

func TestUnmodifiedGopayTalksToTheV2Sandbox(t *testing.T) {
	s := testkit.StartSandbox(t)
	k := testkit.SandboxKeys(t)
	ctx := context.Background()
	paidTrade(t, s, "GOPAY-ORDER-1", 1234, yesterday())
	c := gopayClient(t, s)

	for _, st := range []string{gpwechat.SignType_MD5, gpwechat.SignType_HMAC_SHA256} {
		bm := gopay.BodyMap{}
		bm.Set("nonce_str", "n0nce"+st).Set("out_trade_no", "GOPAY-ORDER-1").Set("sign_type", st)
		rsp, res, err := c.QueryOrder(ctx, bm)
		if err != nil {
			t.Fatal(err)
		}
		if rsp.ReturnCode != "SUCCESS" || rsp.ResultCode != "SUCCESS" || rsp.TradeState != "SUCCESS" || rsp.TotalFee != "1234" || rsp.MchId != k.WeChatMchID {
			t.Fatalf("%s orderquery: %+v", st, rsp)
		}
		if ok, err := gpwechat.VerifySign(k.WeChatV2APIKey, st, res); !ok || err != nil {
			t.Fatalf("%s: the SDK does not verify the sandbox's answer: %v %v", st, ok, err)
		}
	}
	bm := gopay.BodyMap{}
	bm.Set("nonce_str", "x").Set("out_trade_no", "NO-SUCH")
	if rsp, _, err := c.QueryOrder(ctx, bm); err != nil || rsp.ResultCode != "FAIL" || rsp.ErrCode != "ORDERNOTEXIST" {
		t.Fatalf("unknown order: %+v %v", rsp, err)
	}

	refund := func() gopay.BodyMap {
		bm := gopay.BodyMap{}
		return bm.Set("nonce_str", "r").Set("out_trade_no", "GOPAY-ORDER-1").Set("out_refund_no", "GOPAY-REFUND-1").
			Set("total_fee", 1234).Set("refund_fee", 234)
	}
	// Without the merchant certificate the refund is refused, and nothing
	// is refunded.
	rsp, _, err := c.Refund(ctx, refund())
	if err != nil || rsp.ReturnCode != "FAIL" || !strings.Contains(rsp.ReturnMsg, "证书") {
		t.Fatalf("refund without the certificate: %+v %v", rsp, err)
	}
	if tr, _ := s.Trade("wechat", "GOPAY-ORDER-1"); len(tr.Refunds) != 0 {
		t.Fatalf("refunded without the certificate: %+v", tr.Refunds)
	}
	// A certificate from another CA is not even offered (Go's TLS client
	// sends only one the server's CA list accepts), or fails the
	// handshake: either way, refused.
	other := foreignClientCert(t)
	c2 := gopayClient(t, s)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(s.CACertPEM())
	c2.GetTLSHttpClient().SetHttpTLSConfig(&tls.Config{RootCAs: roots, Certificates: []tls.Certificate{other}})
	if rsp, _, err := c2.Refund(ctx, refund()); err == nil && rsp.ReturnCode != "FAIL" {
		t.Fatalf("refund with a foreign certificate: %+v", rsp)
	}
	if tr, _ := s.Trade("wechat", "GOPAY-ORDER-1"); len(tr.Refunds) != 0 {
		t.Fatalf("refunded with a foreign certificate: %+v", tr.Refunds)
	}

	// With apiclient_cert.pem and apiclient_key.pem, through the SDK's own
	// loader (which skips checking the server, so it needs no CA), on a
	// client made afresh as a merchant's is at start (the first one keeps
	// its certificate-less connection alive).
	c = gopayClient(t, s)
	if err := c.AddCertPemFileContent(s.MerchantCertPEM(), sandbox.PrivateKeyPEM(k.WeChatMerchantKey)); err != nil {
		t.Fatal(err)
	}
	r1, res1, err := c.Refund(ctx, refund())
	if err != nil || r1.ReturnCode != "SUCCESS" || r1.ResultCode != "SUCCESS" || r1.RefundFee != "234" || r1.RefundId == "" {
		t.Fatalf("refund: %+v %v", r1, err)
	}
	if ok, _ := gpwechat.VerifySign(k.WeChatV2APIKey, gpwechat.SignType_MD5, res1); !ok {
		t.Fatal("the SDK does not verify the refund answer")
	}
	r2, _, err := c.Refund(ctx, refund())
	if err != nil || r2.RefundId != r1.RefundId {
		t.Fatalf("the same out_refund_no refunded again: %+v %v", r2, err)
	}
	if tr, _ := s.Trade("wechat", "GOPAY-ORDER-1"); len(tr.Refunds) != 1 {
		t.Fatalf("%d refunds", len(tr.Refunds))
	}

	bm = gopay.BodyMap{}
	bm.Set("nonce_str", "q").Set("out_refund_no", "GOPAY-REFUND-1")
	q, qres, err := c.QueryRefund(ctx, bm)
	if err != nil || q.ResultCode != "SUCCESS" || q.RefundCount != "1" || q.OutRefundNo0 != "GOPAY-REFUND-1" || q.RefundFee0 != "234" || qres.GetString("refund_status_0") != "SUCCESS" {
		t.Fatalf("refundquery: %+v %v", q, err)
	}

	// downloadbill, plain and gzip: the text bill paydesk's parser reads.
	day := yesterday().In(s.Zone()).Format("20060102")
	bm = gopay.BodyMap{}
	bm.Set("nonce_str", "b").Set("bill_date", day).Set("bill_type", "ALL")
	text, err := c.DownloadBill(ctx, bm)
	if err != nil || !strings.Contains(text, "GOPAY-ORDER-1") {
		t.Fatalf("downloadbill: %v %.200q", err, text)
	}
	br, err := wechat.OpenBill("bill.txt", strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if lines := billLines(t, br); len(lines) != 1 || lines[0].OutTradeNo != "GOPAY-ORDER-1" || lines[0].Amount != 1234 {
		t.Fatalf("bill lines: %+v", lines) // the refund was made today: tomorrow's bill
	}
	bm = gopay.BodyMap{} // the SDK leaves its sign in the map it was given
	bm.Set("nonce_str", "g").Set("bill_date", day).Set("bill_type", "ALL").Set("tar_type", "GZIP")
	gz, err := c.DownloadBill(ctx, bm)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(strings.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	unzipped, _ := io.ReadAll(zr)
	if !bytes.Equal(unzipped, []byte(text)) {
		t.Fatal("the gzip bill is not the plain one")
	}
	bm = gopay.BodyMap{}
	bm.Set("nonce_str", "b").Set("bill_date", "20000101").Set("bill_type", "ALL")
	if none, err := c.DownloadBill(ctx, bm); err != nil || !strings.Contains(none, "No Bill Exist") {
		t.Fatalf("a day without a bill: %v %q", err, none)
	}
}

// foreignClientCert is a client certificate the sandbox's CA did not
// issue.
func foreignClientCert(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "1900000109"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	cert, err := tls.X509KeyPair(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// billLines reads a bill to its end (which checks its summary).
func billLines(t *testing.T, br gateway.BillReader) []gateway.BillLine {
	t.Helper()
	out, err := testkit.ReadAll(br.Next)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
