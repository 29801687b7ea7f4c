package sandbox_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdk "github.com/smartwalle/alipay/v3"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/internal/testkit"
)

func newAlipayClock(t time.Time) *testkit.Clock { return testkit.NewClock(t) }

var sandboxCerts = sync.OnceValues(func() (*sandbox.AlipayCerts, error) {
	k, err := testkit.LoadSandboxKeys()
	if err != nil {
		return nil, err
	}
	return sandbox.NewAlipayCerts(k)
})

// startAlipay runs a sandbox at a fixed clock and returns it with an
// unmodified smartwalle client pointed at it, in public-key or certificate
// mode. transport, when set, sits under the client (to change answers).
func startAlipay(t *testing.T, certMode bool, clock *testkit.Clock, transport http.RoundTripper) (*sandbox.Server, *sdk.Client) {
	t.Helper()
	s := testkit.StartSandbox(t, func(c *sandbox.Config) { c.Now = clock.Now })
	k := testkit.SandboxKeys(t)
	hc := &http.Client{Timeout: 5 * time.Second, Transport: transport}
	c, err := sdk.New(k.AlipayAppID, string(sandbox.PrivateKeyPEM(k.AlipayAppKey)), false,
		sdk.WithSandboxGateway(s.URL()+sandbox.AlipayGatewayPath), sdk.WithHTTPClient(hc), sdk.WithTimeLocation(gateway.Shanghai))
	if err != nil {
		t.Fatal(err)
	}
	if certMode {
		certs, err := sandboxCerts()
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetAlipayCertMode(certs); err != nil {
			t.Fatal(err)
		}
		for _, load := range []error{
			c.LoadAppCertPublicKey(string(certs.AppCertPEM)),
			c.LoadAliPayRootCert(string(certs.RootPEM)),
			c.LoadAlipayCertPublicKey(string(certs.AlipayCertPEM)),
		} {
			if load != nil {
				t.Fatal(load)
			}
		}
	} else if err := c.LoadAliPayPublicKey(string(sandbox.PublicKeyPEM(&k.AlipayPlatformKey.PublicKey))); err != nil {
		t.Fatal(err)
	}
	return s, c
}

func keyModes(t *testing.T, f func(t *testing.T, certMode bool)) {
	t.Run("public-key", func(t *testing.T) { f(t, false) })
	t.Run("certificate", func(t *testing.T) { f(t, true) })
}

func mustPaidAlipayTrade(t *testing.T, s *sandbox.Server, out string, amount gateway.Money, paidAt time.Time) {
	t.Helper()
	if _, err := s.CreateTrade(sandbox.TradeSpec{Channel: gateway.Alipay, OutTradeNo: out, Amount: amount, Subject: "洗衣订单, 加急", CreatedAt: paidAt.Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pay(gateway.Alipay, out, paidAt); err != nil {
		t.Fatal(err)
	}
}

func TestAlipaySDKQueryRefundRefundQueryAndBill(t *testing.T) {
	keyModes(t, func(t *testing.T, certMode bool) {
		ctx := context.Background()
		clock := newAlipayClock(testkit.Time(t, "2026-11-22T15:00:00+08:00"))
		s, c := startAlipay(t, certMode, clock, nil)
		mustPaidAlipayTrade(t, s, "PDK7Q2M9X1", 1000, testkit.Time(t, "2026-11-22T10:00:00+08:00"))

		q, err := c.TradeQuery(ctx, sdk.TradeQuery{OutTradeNo: "PDK7Q2M9X1"})
		if err != nil || q.Code != sdk.CodeSuccess || q.TradeStatus != sdk.TradeStatusSuccess || q.TotalAmount != "10.00" || q.SendPayDate != "2026-11-22 10:00:00" {
			t.Fatalf("query: %+v, %v", q, err)
		}
		q, err = c.TradeQuery(ctx, sdk.TradeQuery{OutTradeNo: "NOSUCHORDER"})
		if err != nil || q.Code != sdk.CodeBusinessFailed || q.SubCode != "ACQ.TRADE_NOT_EXIST" {
			t.Fatalf("query of an unknown order: %+v, %v", q, err)
		}

		r, err := c.TradeRefund(ctx, sdk.TradeRefund{OutTradeNo: "PDK7Q2M9X1", RefundAmount: "3.00", OutRequestNo: "RQ1"})
		if err != nil || r.Code != sdk.CodeSuccess || r.FundChange != "Y" || r.RefundFee != "3.00" {
			t.Fatalf("refund: %+v, %v", r, err)
		}
		r, err = c.TradeRefund(ctx, sdk.TradeRefund{OutTradeNo: "PDK7Q2M9X1", RefundAmount: "3.00", OutRequestNo: "RQ1"})
		if err != nil || r.Code != sdk.CodeSuccess || r.FundChange != "N" || r.RefundFee != "3.00" {
			t.Fatalf("repeated refund must not move money again: %+v, %v", r, err)
		}
		r, err = c.TradeRefund(ctx, sdk.TradeRefund{OutTradeNo: "PDK7Q2M9X1", RefundAmount: "4.00", OutRequestNo: "RQ1"})
		if err != nil || r.SubCode != "ACQ.DISCORDANT_REPEAT_REQUEST" {
			t.Fatalf("request number reused with another amount: %+v, %v", r, err)
		}
		r, err = c.TradeRefund(ctx, sdk.TradeRefund{OutTradeNo: "PDK7Q2M9X1", RefundAmount: "7.01", OutRequestNo: "RQ2"})
		if err != nil || r.SubCode != "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL" {
			t.Fatalf("refund above the ceiling: %+v, %v", r, err)
		}
		if tr, _ := s.Trade(gateway.Alipay, "PDK7Q2M9X1"); len(tr.Refunds) != 1 {
			t.Fatalf("book holds %d refunds, want 1", len(tr.Refunds))
		}

		rq, err := c.TradeFastPayRefundQuery(ctx, sdk.TradeFastPayRefundQuery{OutTradeNo: "PDK7Q2M9X1", OutRequestNo: "RQ1"})
		if err != nil || rq.RefundStatus != "REFUND_SUCCESS" || rq.RefundAmount != "3.00" || rq.OutRequestNo != "RQ1" {
			t.Fatalf("refund query: %+v, %v", rq, err)
		}
		rq, err = c.TradeFastPayRefundQuery(ctx, sdk.TradeFastPayRefundQuery{OutTradeNo: "PDK7Q2M9X1", OutRequestNo: "NOPE"})
		if err != nil || rq.Code != sdk.CodeSuccess || rq.RefundStatus != "" || rq.RefundAmount != "" {
			t.Fatalf("query of an unknown request: %+v, %v", rq, err)
		}

		// Today's bill does not exist yet; yesterday's... is today's once the day is over.
		b, err := c.BillDownloadURLQuery(ctx, sdk.BillDownloadURLQuery{BillType: "trade", BillDate: "2026-11-22"})
		if err != nil || b.SubCode != "isp.bill_not_exist" {
			t.Fatalf("bill of a day not over: %+v, %v", b, err)
		}
		clock.Set(testkit.Time(t, "2026-11-23T09:30:00+08:00"))
		b, err = c.BillDownloadURLQuery(ctx, sdk.BillDownloadURLQuery{BillType: "trade", BillDate: "2026-11-22"})
		if err != nil || b.Code != sdk.CodeSuccess || b.BillDownloadURL == "" {
			t.Fatalf("bill url: %+v, %v", b, err)
		}
		detail := downloadAlipayDetail(t, b.BillDownloadURL)
		for _, want := range []string{"PDK7Q2M9X1\t,交易\t,洗衣订单， 加急,", ",10.00,10.00,", "RQ1\t,", ",-3.00,-3.00,",
			"#交易合计：1笔，商家实收共10.00元", "#退款合计：1笔，商家实收退款共-3.00元"} {
			if !strings.Contains(detail, want) {
				t.Errorf("detail file lacks %q:\n%s", want, detail)
			}
		}
	})
}

// downloadAlipayDetail GETs a bill URL and returns the detail file decoded
// from GBK, checking the zip's entry names are GBK without the UTF-8 flag.
func downloadAlipayDetail(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET bill: %d %s", resp.StatusCode, data)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 2 {
		t.Fatalf("zip has %d entries, want detail and summary", len(zr.File))
	}
	var detail string
	dec := simplifiedchinese.GBK.NewDecoder()
	for _, f := range zr.File {
		if f.Flags&0x800 != 0 {
			t.Errorf("entry %q claims UTF-8", f.Name)
		}
		name, err := dec.String(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		rc, _ := f.Open()
		body, _ := io.ReadAll(rc)
		rc.Close()
		text, err := dec.Bytes(body)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.HasSuffix(name, "_20261122_业务明细.csv"):
			detail = string(text)
		case strings.HasSuffix(name, "_20261122_业务明细(汇总).csv"):
			if !strings.Contains(string(text), "合计,,1,1,7.00,7.00,") {
				t.Errorf("summary file:\n%s", text)
			}
		default:
			t.Errorf("unexpected entry %q", name)
		}
	}
	return detail
}

// flipByte changes one byte of every answer from the gateway: the byte at
// offset into the first occurrence of match, whose lowest bit it flips
// ('1' becomes '0', 'T' becomes 'U').
type flipByte struct {
	match  string
	offset int
	hits   atomic.Int32
}

func (f *flipByte) RoundTrip(req *http.Request) (*http.Response, error) {
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

// byteFlips are the one-byte changes every client must reject: in the
// amount, in the status, inside the signature.
var byteFlips = []struct {
	name, match string
	offset      int
}{
	{"amount", `"total_amount":"1`, len(`"total_amount":"`)},
	{"status", `TRADE_SUCCESS`, 0},
	{"signature", `"sign":"`, len(`"sign":"`) + 10},
}

func TestAlipaySDKRejectsAnAnswerWithOneByteChanged(t *testing.T) {
	keyModes(t, func(t *testing.T, certMode bool) {
		clock := newAlipayClock(testkit.Time(t, "2026-11-22T15:00:00+08:00"))
		for _, tc := range byteFlips {
			t.Run(tc.name, func(t *testing.T) {
				flip := &flipByte{match: tc.match, offset: tc.offset}
				s, c := startAlipay(t, certMode, clock, flip)
				mustPaidAlipayTrade(t, s, "PDKFLIP01", 1000, testkit.Time(t, "2026-11-22T10:00:00+08:00"))
				q, err := c.TradeQuery(context.Background(), sdk.TradeQuery{OutTradeNo: "PDKFLIP01"})
				if flip.hits.Load() == 0 {
					t.Fatal("the transport changed nothing")
				}
				if err == nil {
					t.Fatalf("changed answer accepted: %+v", q)
				}
			})
		}
		// The same transport with nothing to match proves the check is the
		// change, not the transport.
		flip := &flipByte{match: "no such bytes"}
		s, c := startAlipay(t, certMode, clock, flip)
		mustPaidAlipayTrade(t, s, "PDKFLIP02", 1000, testkit.Time(t, "2026-11-22T10:00:00+08:00"))
		if q, err := c.TradeQuery(context.Background(), sdk.TradeQuery{OutTradeNo: "PDKFLIP02"}); err != nil || q.TotalAmount != "10.00" {
			t.Fatalf("unchanged answer: %+v, %v", q, err)
		}
	})
}

func TestAlipaySandboxRejectsBadRequests(t *testing.T) {
	clock := newAlipayClock(testkit.Time(t, "2026-11-22T15:00:00+08:00"))
	s, _ := startAlipay(t, false, clock, nil)
	k := testkit.SandboxKeys(t)
	gw := s.URL() + sandbox.AlipayGatewayPath
	other, err := sdk.New("2021999900000009", string(sandbox.PrivateKeyPEM(k.AlipayAppKey)), false, sdk.WithSandboxGateway(gw))
	if err != nil {
		t.Fatal(err)
	}
	_ = other.LoadAliPayPublicKey(string(sandbox.PublicKeyPEM(&k.AlipayPlatformKey.PublicKey)))
	_, err = other.TradeQuery(context.Background(), sdk.TradeQuery{OutTradeNo: "X"})
	var e *sdk.Error
	if !errors.As(err, &e) || e.SubCode != "isv.invalid-app-id" {
		t.Fatalf("wrong app id: %v", err)
	}
	// Signed with a key the sandbox does not know as the app's.
	forger, err := sdk.New(k.AlipayAppID, string(sandbox.PrivateKeyPEM(k.WeChatMerchantKey)), false, sdk.WithSandboxGateway(gw))
	if err != nil {
		t.Fatal(err)
	}
	_ = forger.LoadAliPayPublicKey(string(sandbox.PublicKeyPEM(&k.AlipayPlatformKey.PublicKey)))
	_, err = forger.TradeQuery(context.Background(), sdk.TradeQuery{OutTradeNo: "X"})
	if !errors.As(err, &e) || e.Code != "40002" || e.SubCode != "isv.invalid-signature" {
		t.Fatalf("bad request signature: %v", err)
	}
}

func TestAlipaySandboxAcceptsPublicParametersInTheQueryString(t *testing.T) {
	clock := newAlipayClock(testkit.Time(t, "2026-11-22T15:00:00+08:00"))
	s, c := startAlipay(t, false, clock, nil)
	mustPaidAlipayTrade(t, s, "PDKQS0001", 250, testkit.Time(t, "2026-11-22T10:00:00+08:00"))
	vals, err := c.URLValues(sdk.TradeQuery{OutTradeNo: "PDKQS0001"})
	if err != nil {
		t.Fatal(err)
	}
	post := func(query, body url.Values) string {
		resp, err := http.Post(s.URL()+sandbox.AlipayGatewayPath+"?"+query.Encode(), "application/x-www-form-urlencoded;charset=utf-8", strings.NewReader(body.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	query, body := url.Values{}, url.Values{}
	for k, v := range vals {
		if k == "biz_content" {
			body[k] = v
		} else {
			query[k] = v
		}
	}
	if got := post(query, body); !strings.Contains(got, `"code":"10000"`) || !strings.Contains(got, `"total_amount":"2.50"`) || !strings.Contains(got, `"sign":"`) {
		t.Fatalf("split request: %s", got)
	}
	// The same parameter in both places is ambiguous and refused.
	query.Set("biz_content", body.Get("biz_content"))
	if got := post(query, body); !strings.Contains(got, "isv.invalid-parameter") {
		t.Fatalf("duplicated parameter: %s", got)
	}
}

func TestAlipaySandboxFaults(t *testing.T) {
	clock := newAlipayClock(testkit.Time(t, "2026-11-22T15:00:00+08:00"))
	s, c := startAlipay(t, false, clock, nil)
	mustPaidAlipayTrade(t, s, "PDKFAULT1", 1000, testkit.Time(t, "2026-11-22T10:00:00+08:00"))
	s.SetFault(gateway.Alipay, "PDKFAULT1", sandbox.Fault{ServerError: true})
	if _, err := c.TradeRefund(context.Background(), sdk.TradeRefund{OutTradeNo: "PDKFAULT1", RefundAmount: "1.00", OutRequestNo: "F1"}); err == nil {
		t.Fatal("server error answered as success")
	}
	if tr, _ := s.Trade(gateway.Alipay, "PDKFAULT1"); len(tr.Refunds) != 0 {
		t.Fatal("ServerError must not refund")
	}
	s.SetFault(gateway.Alipay, "PDKFAULT1", sandbox.Fault{Hang: true})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := c.TradeRefund(ctx, sdk.TradeRefund{OutTradeNo: "PDKFAULT1", RefundAmount: "1.00", OutRequestNo: "F2"}); err == nil {
		t.Fatal("hung request answered")
	}
	if tr, _ := s.Trade(gateway.Alipay, "PDKFAULT1"); len(tr.Refunds) != 1 || tr.Refunds[0].OutRequestNo != "F2" {
		t.Fatalf("Hang must refund before hanging: %+v", tr.Refunds)
	}
}

func TestAlipaySandboxCertificateMode(t *testing.T) {
	clock := newAlipayClock(testkit.Time(t, "2026-11-22T15:00:00+08:00"))
	s, c := startAlipay(t, true, clock, nil)
	mustPaidAlipayTrade(t, s, "PDKCERT01", 100, testkit.Time(t, "2026-11-22T10:00:00+08:00"))
	certs, _ := sandboxCerts()
	var raw []byte
	c.OnReceivedData(func(ctx context.Context, method string, data []byte) { raw = data })
	if q, err := c.TradeQuery(context.Background(), sdk.TradeQuery{OutTradeNo: "PDKCERT01"}); err != nil || q.TotalAmount != "1.00" {
		t.Fatalf("cert-mode query: %+v, %v", q, err)
	}
	if len(raw) == 0 {
		t.Fatal("no answer seen")
	}
	if root, err := sandbox.AlipayRootCertSN(certs.RootPEM); err != nil || root != certs.RootCertSN || strings.Contains(root, "_") {
		t.Fatalf("root SN %q (%v): the ECDSA root must not count", root, err)
	}
	// The files a merchant downloads load into the SDK as they are.
	dir := t.TempDir()
	if err := certs.WriteFiles(dir, testkit.SandboxKeys(t).AlipayAppID); err != nil {
		t.Fatal(err)
	}
	appFile, aliFile, rootFile := sandbox.AlipayCertFiles(testkit.SandboxKeys(t).AlipayAppID)
	fromFiles, _ := sdk.New(testkit.SandboxKeys(t).AlipayAppID, string(sandbox.PrivateKeyPEM(testkit.SandboxKeys(t).AlipayAppKey)), false, sdk.WithSandboxGateway(s.URL()+sandbox.AlipayGatewayPath))
	for _, err := range []error{
		fromFiles.LoadAppCertPublicKeyFromFile(filepath.Join(dir, appFile)),
		fromFiles.LoadAliPayRootCertFromFile(filepath.Join(dir, rootFile)),
		fromFiles.LoadAlipayCertPublicKeyFromFile(filepath.Join(dir, aliFile)),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if q, err := fromFiles.TradeQuery(context.Background(), sdk.TradeQuery{OutTradeNo: "PDKCERT01"}); err != nil || q.Code != sdk.CodeSuccess {
		t.Fatalf("client loaded from files: %+v, %v", q, err)
	}
	// A client in public-key mode sends no certificate serial numbers.
	k := testkit.SandboxKeys(t)
	plain, err := sdk.New(k.AlipayAppID, string(sandbox.PrivateKeyPEM(k.AlipayAppKey)), false, sdk.WithSandboxGateway(s.URL()+sandbox.AlipayGatewayPath))
	if err != nil {
		t.Fatal(err)
	}
	_ = plain.LoadAliPayPublicKey(string(sandbox.PublicKeyPEM(&k.AlipayPlatformKey.PublicKey)))
	_, err = plain.TradeQuery(context.Background(), sdk.TradeQuery{OutTradeNo: "PDKCERT01"})
	var e *sdk.Error
	if !errors.As(err, &e) || e.SubCode != "isv.invalid-app-cert-sn" {
		t.Fatalf("public-key client against a certificate-mode app: %v", err)
	}
	// The answer names the certificate that signed it.
	resp, err := http.PostForm(s.URL()+sandbox.AlipayGatewayPath, mustValues(t, c, sdk.TradeQuery{OutTradeNo: "PDKCERT01"}))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(body, []byte(`"alipay_cert_sn":"`+certs.AlipayCertSN+`"`)) {
		t.Fatalf("answer without alipay_cert_sn: %s", body)
	}
}

func mustValues(t *testing.T, c *sdk.Client, p sdk.Param) url.Values {
	t.Helper()
	v, err := c.URLValues(p)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
