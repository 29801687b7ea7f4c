package wechat_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
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

// billServer serves one day's v2 bill (n payments, gzip) as downloadbill
// answers it, from bytes made once with the sandbox's bill writer: the
// server allocates nothing per request, so B/op is the client's.
func billServer(b *testing.B, n int) (*httptest.Server, []byte) {
	b.Helper()
	var text bytes.Buffer
	bw, err := sandbox.NewWeChatBillWriter(&text, "ALL")
	if err != nil {
		b.Fatal(err)
	}
	day := yesterday()
	row := sandbox.WeChatBillRow{AppID: "wxd678efh567hg6787", MchID: "1900000109", OpenID: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", Subject: "年费会员 标准版"}
	for i := range n {
		row.Time = day.Add(time.Duration(i%36000) * time.Second)
		row.TradeNo = "42000012342026112" + strconv.FormatInt(int64(10000000000+i), 10)
		row.OutTradeNo = "PD2026" + strconv.FormatInt(int64(10000000+i), 36)
		row.Amount = gateway.Money(100 + i%100000)
		row.Fee = sandbox.WeChatFee(row.Amount)
		if err := bw.Payment(&row); err != nil {
			b.Fatal(err)
		}
	}
	if err := bw.Close(); err != nil {
		b.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(text.Bytes())
	zw.Close()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-gzip")
		w.Header().Set("Content-Length", strconv.Itoa(gz.Len()))
		_, _ = w.Write(gz.Bytes())
	}))
	b.Cleanup(srv.Close)
	return srv, text.Bytes()
}

// BenchmarkV2BillDownload downloads one day's v2 bill (200,000 payments,
// about 60 MB of text, gzip) with the SDK's DownloadBill (the whole answer
// read into memory, then copied into a string; its body cap raised so it
// is not cut) and with V2Client.DownloadBill (the same signed request, the
// answer streamed). Both end with the text hashed (SHA-256) and dropped. Compare
// B/op: the SDK's grows with the bill, the stream's does not.
//
//	go test ./gateway/wechat -run '^$' -bench V2BillDownload -benchmem
func BenchmarkV2BillDownload(b *testing.B) {
	srv, text := billServer(b, 200_000)
	ctx := context.Background()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	k := testkit.SandboxKeys(b)
	c := newV2(b, wechat.V2Config{MchID: k.WeChatMchID, AppID: k.WeChatAppID, APIKey: k.WeChatV2APIKey, BaseURL: srv.URL, RootCAs: roots})
	day := yesterday()
	b.Run("gopay", func(b *testing.B) {
		gp := gpwechat.NewClient(k.WeChatAppID, k.WeChatMchID, k.WeChatV2APIKey, true)
		gp.SetProxyUrl(srv.URL)
		gp.GetHttpClient().SetHttpTLSConfig(&tls.Config{RootCAs: roots})
		gp.SetBodySize(512)
		b.SetBytes(int64(len(text)))
		b.ReportAllocs()
		for range b.N {
			bm := gopay.BodyMap{}
			bm.Set("nonce_str", "bench").Set("bill_date", day.Format("20060102")).Set("bill_type", "ALL").Set("tar_type", "GZIP")
			gz, err := gp.DownloadBill(ctx, bm)
			if err != nil {
				b.Fatal(err)
			}
			zr, err := gzip.NewReader(strings.NewReader(gz))
			if err != nil {
				b.Fatal(err)
			}
			// Hashed as DownloadBill hashes what it writes, so both do
			// the same work.
			if n, err := io.Copy(sha256.New(), zr); err != nil || n != int64(len(text)) {
				b.Fatalf("%d bytes, %v", n, err)
			}
		}
	})
	b.Run("paydesk", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		b.ReportAllocs()
		for range b.N {
			if f, err := c.DownloadBill(ctx, day, io.Discard); err != nil || f.Size != int64(len(text)) {
				b.Fatalf("%+v %v", f, err)
			}
		}
	})
}

// The SDK's DownloadBill cuts an answer at its body cap (10 MB unless
// raised) without an error: one reason paydesk streams the bill instead.
func TestGopayCutsABillAtItsCapSilently(t *testing.T) {
	if testing.Short() {
		t.Skip("a 12 MB bill")
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.Copy(w, io.LimitReader(repeatReader('x'), 12<<20))
	}))
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	k := testkit.SandboxKeys(t)
	gp := gpwechat.NewClient(k.WeChatAppID, k.WeChatMchID, k.WeChatV2APIKey, true)
	gp.SetProxyUrl(srv.URL)
	gp.GetHttpClient().SetHttpTLSConfig(&tls.Config{RootCAs: roots})
	bm := gopay.BodyMap{}
	bm.Set("nonce_str", "n").Set("bill_date", "20260101").Set("bill_type", "ALL")
	text, err := gp.DownloadBill(context.Background(), bm)
	if err != nil || len(text) != 10<<20 {
		t.Fatalf("the SDK returned %d of %d bytes, err %v", len(text), 12<<20, err)
	}
}

type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}
