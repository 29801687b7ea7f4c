package wechat_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/auth/verifiers"
	"github.com/wechatpay-apiv3/wechatpay-go/core/downloader"
	"github.com/wechatpay-apiv3/wechatpay-go/core/notify"
	"github.com/wechatpay-apiv3/wechatpay-go/core/option"
	"github.com/wechatpay-apiv3/wechatpay-go/services/payments"
	"github.com/wechatpay-apiv3/wechatpay-go/services/payments/native"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/gateway/wechat"
	"github.com/paydesk/paydesk/internal/testkit"
)

// certOnly configures the client as a merchant in certificate mode: the
// platform certificate file, no public key.
func certOnly(s *sandbox.Server) func(*wechat.Config) {
	return func(c *wechat.Config) {
		c.PlatformPublicKeyID, c.PlatformPublicKeyPEM = "", nil
		c.PlatformCertPEMs = [][]byte{s.WeChatCert().PEM}
	}
}

func TestAnswersVerifyUnderTheKeyTheirSerialNames(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		sign     sandbox.WeChatSign
		client   string
		verifies bool
	}{
		{sandbox.WeChatSignPubKey, "pubkey", true},
		{sandbox.WeChatSignPubKey, "cert", false}, // the public key's id names no certificate
		{sandbox.WeChatSignCert, "pubkey", false}, // before issue 11: every certificate-signed answer failed
		{sandbox.WeChatSignCert, "cert", true},
		{sandbox.WeChatSignCert, "download", true},
		{sandbox.WeChatSignMixed, "both", true},
		{sandbox.WeChatSignMixed, "download+pubkey", true},
	} {
		t.Run(string(tc.sign)+"/"+tc.client, func(t *testing.T) {
			s := testkit.StartSandbox(t, func(c *sandbox.Config) { c.WeChatSign = tc.sign })
			paidTrade(t, s, "KS-1", 700, yesterday())
			var mutate func(*wechat.Config)
			switch tc.client {
			case "cert":
				mutate = certOnly(s)
			case "download":
				mutate = func(c *wechat.Config) {
					c.PlatformPublicKeyID, c.PlatformPublicKeyPEM, c.PlatformCertDownload = "", nil, true
				}
			case "both":
				mutate = func(c *wechat.Config) { c.PlatformCertPEMs = [][]byte{s.WeChatCert().PEM} }
			case "download+pubkey":
				mutate = func(c *wechat.Config) { c.PlatformCertDownload = true }
			default:
				mutate = func(*wechat.Config) {}
			}
			c := newClient(t, s, mutate)
			// Several queries: in mixed mode each answer draws its key.
			for i := range 6 {
				tr, err := c.QueryTrade(ctx, "KS-1")
				if tc.verifies && (err != nil || tr.State != gateway.TradePaid) {
					t.Fatalf("query %d: %+v, %v", i, tr, err)
				}
				if !tc.verifies && err == nil {
					t.Fatalf("query %d: an answer under a key this merchant lacks verified", i)
				}
			}
		})
	}
}

func TestNotificationsNameTheKeyThatVerifiedThem(t *testing.T) {
	s := testkit.StartSandbox(t, func(c *sandbox.Config) { c.WeChatSign = sandbox.WeChatSignMixed })
	k := testkit.SandboxKeys(t)
	both := newClient(t, s, func(c *wechat.Config) { c.PlatformCertPEMs = [][]byte{s.WeChatCert().PEM} })
	pubOnly := newClient(t, s)
	ep := &endpoint{}
	srv := httptest.NewServer(ep.handler(both))
	defer srv.Close()
	s.SetNotifyURL(gateway.WeChat, srv.URL)
	paidAt := time.Now().Add(-time.Second).Truncate(time.Second)
	// 24 callbacks: both keys show up unless the seeded coin comes up
	// the same 24 times (one in eight million).
	for i := range 24 {
		paidTrade(t, s, fmt.Sprintf("NK-%d", i), 100, paidAt)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitDelivered(ctx); err != nil {
		t.Fatal(err)
	}
	if len(ep.rejected) != 0 {
		t.Fatalf("rejected in mixed mode with both keys: %v", ep.rejected)
	}
	seen := map[string]int{}
	for _, n := range ep.verified {
		seen[n.VerifiedBy]++
	}
	pubName, certName := "public key "+k.WeChatPlatformKeyID, "platform certificate "+s.WeChatCert().Serial
	if len(seen) != 2 || seen[pubName] == 0 || seen[certName] == 0 {
		t.Fatalf("keys that verified the 24 callbacks: %v; want both %q and %q", seen, pubName, certName)
	}

	// The same certificate-signed callback to a merchant with the public
	// key alone: a bad signature that names the serial it came under.
	s.SetWeChatSign(sandbox.WeChatSignCert)
	ep2 := &endpoint{}
	srv2 := httptest.NewServer(ep2.handler(pubOnly))
	defer srv2.Close()
	if _, err := s.CreateTrade(sandbox.TradeSpec{Channel: gateway.WeChat, OutTradeNo: "NK-PUBONLY", Amount: 100, NotifyURL: srv2.URL}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pay(gateway.WeChat, "NK-PUBONLY", paidAt); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitDelivered(ctx); err != nil {
		t.Fatal(err)
	}
	var unknown *gateway.UnknownKeyError
	if len(ep2.rejected) == 0 || !errors.As(ep2.rejected[0], &unknown) || unknown.Serial != s.WeChatCert().Serial ||
		!errors.Is(ep2.rejected[0], gateway.ErrBadSignature) {
		t.Fatalf("certificate-signed callback to a public-key merchant: %v", ep2.rejected)
	}
	if r := pubOnly.NotifyReply(ep2.rejected[0]); r.Status != http.StatusUnauthorized {
		t.Fatalf("reply to an unknown serial: %d", r.Status)
	}
}

// TestUnmodifiedSDKDownloadsTheSandboxCertificates runs wechatpay-go's own
// CertificateDownloader against the sandbox's /v3/certificates: it decrypts
// the certificate with the APIv3 key, and its second download verifies the
// signed answer with the certificate the first one delivered.
func TestUnmodifiedSDKDownloadsTheSandboxCertificates(t *testing.T) {
	s := testkit.StartSandbox(t)
	k := testkit.SandboxKeys(t)
	ctx := context.Background()
	base, _ := url.Parse(s.URL())
	c, err := core.NewClient(ctx, option.WithMerchantCredential(k.WeChatMchID, k.WeChatMerchantSerialNo, k.WeChatMerchantKey),
		option.WithoutValidator(), option.WithHTTPClient(&http.Client{Transport: toSandbox{base: base}}))
	if err != nil {
		t.Fatal(err)
	}
	d, err := downloader.NewCertificateDownloaderWithClient(ctx, c, k.WeChatAPIv3Key)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.DownloadCertificates(ctx); err != nil {
		t.Fatalf("second download, verified with the first one's certificate: %v", err)
	}
	got, ok := d.Get(ctx, s.WeChatCert().Serial)
	if !ok || !got.Equal(s.WeChatCert().Cert) {
		t.Fatalf("downloaded %v, want the sandbox's certificate %s", d.GetAll(ctx), s.WeChatCert().Serial)
	}
	if exported, _ := d.Export(ctx, s.WeChatCert().Serial); !strings.Contains(exported, "BEGIN CERTIFICATE") {
		t.Fatalf("export: %q", exported)
	}
	// A client in the SDK's certificate mode verifies the sandbox's
	// certificate-signed answers.
	s.SetWeChatSign(sandbox.WeChatSignCert)
	paidTrade(t, s, "SDK-CERT-1", 300, yesterday())
	certClient, err := core.NewClient(ctx,
		option.WithWechatPayAuthCipher(k.WeChatMchID, k.WeChatMerchantSerialNo, k.WeChatMerchantKey, []*x509.Certificate{got}),
		option.WithHTTPClient(&http.Client{Transport: toSandbox{base: base}}))
	if err != nil {
		t.Fatal(err)
	}
	tx, _, err := (&native.NativeApiService{Client: certClient}).QueryOrderByOutTradeNo(ctx,
		native.QueryOrderByOutTradeNoRequest{OutTradeNo: core.String("SDK-CERT-1"), Mchid: core.String(k.WeChatMchID)})
	if err != nil || *tx.TradeState != "SUCCESS" {
		t.Fatalf("SDK certificate-mode query: %v, %v", tx, err)
	}
}

// TestUnmodifiedSDKCombinedVerifierTakesMixedCallbacks feeds the sandbox's
// mixed-mode callbacks to wechatpay-go's notify handler with its combined
// verifier (public key by PUB_KEY_ID_…, certificates by serial).
func TestUnmodifiedSDKCombinedVerifierTakesMixedCallbacks(t *testing.T) {
	s := testkit.StartSandbox(t, func(c *sandbox.Config) { c.WeChatSign = sandbox.WeChatSignMixed })
	k := testkit.SandboxKeys(t)
	certs := core.NewCertificateMapWithList([]*x509.Certificate{s.WeChatCert().Cert})
	h, err := notify.NewRSANotifyHandler(k.WeChatAPIv3Key,
		verifiers.NewSHA256WithRSACombinedVerifier(certs, k.WeChatPlatformKeyID, k.WeChatPlatformKey.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	serials := map[string]int{}
	failed := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var tx payments.Transaction
		serial := r.Header.Get("Wechatpay-Serial")
		if _, err := h.ParseNotifyRequest(context.Background(), r, &tx); err != nil || *tx.TradeState != "SUCCESS" {
			failed++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		serials[serial]++
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	s.SetNotifyURL(gateway.WeChat, srv.URL)
	for i := range 24 {
		paidTrade(t, s, fmt.Sprintf("SDKM-%d", i), 100, time.Now().Add(-time.Second))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitDelivered(ctx); err != nil {
		t.Fatal(err)
	}
	if failed != 0 || serials[k.WeChatPlatformKeyID] == 0 || serials[s.WeChatCert().Serial] == 0 {
		t.Fatalf("failed %d; verified by serial %v", failed, serials)
	}
}

func TestRefundNotifyURLIsSentAndChecked(t *testing.T) {
	s := testkit.StartSandbox(t)
	paidTrade(t, s, "RN-1", 1000, yesterday())
	ep := &endpoint{}
	c := newClient(t, s)
	srv := httptest.NewServer(ep.handler(c))
	defer srv.Close()
	// The trade's notifications go nowhere; the refund names its own URL.
	c = newClient(t, s, func(cfg *wechat.Config) { cfg.RefundNotifyURL = srv.URL + "/notify/wechat" })
	if _, err := c.Refund(context.Background(), gateway.RefundRequest{OutTradeNo: "RN-1", OutRequestNo: "RN-1-R", Amount: 100, Total: 1000}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitDelivered(ctx); err != nil {
		t.Fatal(err)
	}
	if len(ep.verified) != 1 || ep.verified[0].Event != gateway.EventRefund || ep.verified[0].OutRequestNo != "RN-1-R" {
		t.Fatalf("at the refund's notify_url: %+v (rejected %v)", ep.verified, ep.rejected)
	}
	for _, bad := range []string{"ftp://x.example/n", "https://x.example/n?a=1", "https://x.example/" + strings.Repeat("n", 260)} {
		cfg := config(t, s)
		cfg.RefundNotifyURL = bad
		if _, err := wechat.New(cfg); err == nil {
			t.Errorf("refund notify URL %.40q accepted", bad)
		}
	}
}

func TestRefundRateLimitAndSystemErrorLeaveTheOutcomeUnknown(t *testing.T) {
	s := testkit.StartSandbox(t)
	ctx := context.Background()
	c := newClient(t, s)
	paidTrade(t, s, "RL-1", 1000, yesterday())
	// Before issue 11, 429 was a signed 4xx refusal: the refund was marked
	// FAILED and its amount freed for a second request number.
	s.SetFault(gateway.WeChat, "RL-1", sandbox.Fault{RefundRateLimited: true})
	_, err := c.Refund(ctx, gateway.RefundRequest{OutTradeNo: "RL-1", OutRequestNo: "RL-1-429", Amount: 100, Total: 1000})
	if !errors.Is(err, gateway.ErrUnknownOutcome) || !strings.Contains(err.Error(), "FREQUENCY_LIMITED") {
		t.Fatalf("429: %v", err)
	}
	if tr, _ := s.Trade(gateway.WeChat, "RL-1"); len(tr.Refunds) != 0 {
		t.Fatalf("a rate-limited refund was carried out: %+v", tr.Refunds)
	}
	s.SetFault(gateway.WeChat, "RL-1", sandbox.Fault{RefundSystemError: true})
	_, err = c.Refund(ctx, gateway.RefundRequest{OutTradeNo: "RL-1", OutRequestNo: "RL-1-500", Amount: 200, Total: 1000})
	if !errors.Is(err, gateway.ErrUnknownOutcome) || !strings.Contains(err.Error(), "SYSTEM_ERROR") {
		t.Fatalf("SYSTEM_ERROR: %v", err)
	}
	s.ClearFaults()
	// The same numbers again: the 429 one is carried out now, the
	// SYSTEM_ERROR one answers for the refund it had made.
	for _, req := range []gateway.RefundRequest{{OutTradeNo: "RL-1", OutRequestNo: "RL-1-429", Amount: 100, Total: 1000},
		{OutTradeNo: "RL-1", OutRequestNo: "RL-1-500", Amount: 200, Total: 1000}} {
		if r, err := c.Refund(ctx, req); err != nil || r.Status != gateway.RefundSuccess {
			t.Fatalf("re-sent %s: %+v, %v", req.OutRequestNo, r, err)
		}
	}
	if tr, _ := s.Trade(gateway.WeChat, "RL-1"); len(tr.Refunds) != 2 {
		t.Fatalf("%d refunds at the platform, want 2", len(tr.Refunds))
	}
}

func TestRefundAbnormalAndClosedStatuses(t *testing.T) {
	s := testkit.StartSandbox(t)
	ctx := context.Background()
	c := newClient(t, s)
	paidTrade(t, s, "RA-1", 1000, yesterday())
	for _, tc := range []struct {
		no   string
		ends gateway.RefundStatus
		want gateway.RefundStatus
	}{{"RA-1-AB", gateway.RefundAbnormal, gateway.RefundAbnormal}, {"RA-1-CL", gateway.RefundFailed, gateway.RefundFailed}} {
		s.SetFault(gateway.WeChat, "RA-1", sandbox.Fault{RefundEnds: tc.ends})
		r, err := c.Refund(ctx, gateway.RefundRequest{OutTradeNo: "RA-1", OutRequestNo: tc.no, Amount: 100, Total: 1000})
		if err != nil || r.Status != gateway.RefundPending {
			t.Fatalf("%s answer: %+v, %v", tc.no, r, err)
		}
		waitFor(t, func() bool {
			q, err := c.QueryRefund(ctx, "RA-1", tc.no)
			return err == nil && q.Status == tc.want
		}, "refund "+tc.no+" to become "+string(tc.want))
	}
	// Before issue 11 both read FAILED: an ABNORMAL refund's amount looked
	// free to refund again.
	q, _ := c.QueryRefund(ctx, "RA-1", "RA-1-AB")
	if q.PlatformState != "ABNORMAL" {
		t.Fatalf("ABNORMAL query: %+v", q)
	}
}

func waitFor(t *testing.T, ok func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestFieldLimitsBeforeSending(t *testing.T) {
	s := testkit.StartSandbox(t)
	c := newClient(t, s)
	paidTrade(t, s, "FL-1", 1000, yesterday())
	reason := strings.Repeat("退", 27) // 81 bytes of UTF-8
	err := c.CheckRefund(gateway.RefundRequest{OutTradeNo: "FL-1", Reason: reason})
	var fe *gateway.FieldError
	if !errors.As(err, &fe) || fe.Field != "reason" || fe.Len != 81 || fe.Max != 80 {
		t.Fatalf("81-byte reason: %v", err)
	}
	if err := c.CheckRefund(gateway.RefundRequest{OutTradeNo: "FL-1", Reason: strings.Repeat("退", 26)}); err != nil {
		t.Fatalf("78-byte reason: %v", err)
	}
	if err := c.CheckRefund(gateway.RefundRequest{OutTradeNo: strings.Repeat("X", 33)}); !errors.Is(err, gateway.ErrFieldTooLong) {
		t.Fatalf("33-byte out_trade_no: %v", err)
	}
	// Refund checks before it sends: the platform never sees it.
	if _, err := c.Refund(context.Background(), gateway.RefundRequest{OutTradeNo: "FL-1", OutRequestNo: "FL-1-R", Amount: 100, Total: 1000, Reason: reason}); !errors.Is(err, gateway.ErrFieldTooLong) {
		t.Fatalf("refund with an 81-byte reason: %v", err)
	}
	if tr, _ := s.Trade(gateway.WeChat, "FL-1"); len(tr.Refunds) != 0 {
		t.Fatal("the platform got a refund paydesk should have refused")
	}
}

// forgeSignature re-signs the answers of one path with a key that is not
// WeChat Pay's, leaving their bodies as they were: a man in the middle
// handing out certificates of his own would have to.
type forgeSignature struct {
	path string
	key  *rsa.PrivateKey
}

func (f forgeSignature) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || req.URL.Path != f.path {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	h := resp.Header
	sum := sha256.Sum256([]byte(h.Get("Wechatpay-Timestamp") + "\n" + h.Get("Wechatpay-Nonce") + "\n" + string(body) + "\n"))
	sig, err := rsa.SignPKCS1v15(rand.Reader, f.key, crypto.SHA256, sum[:])
	if err != nil {
		return nil, err
	}
	h.Set("Wechatpay-Signature", base64.StdEncoding.EncodeToString(sig))
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// TestCertificateDownloadTrustsNothingUnverified: the first download of
// /v3/certificates cannot be checked, so it is downloaded again and the
// answer must verify under the certificate it delivered. A forged
// signature on that answer leaves the client with no certificate: the
// platform's certificate-signed answers do not verify.
func TestCertificateDownloadTrustsNothingUnverified(t *testing.T) {
	s := testkit.StartSandbox(t, func(c *sandbox.Config) { c.WeChatSign = sandbox.WeChatSignCert })
	k := testkit.SandboxKeys(t)
	paidTrade(t, s, "DLF-1", 500, yesterday())
	c := newClient(t, s, func(cfg *wechat.Config) {
		cfg.PlatformPublicKeyID, cfg.PlatformPublicKeyPEM, cfg.PlatformCertDownload = "", nil, true
		cfg.HTTPClient = &http.Client{Transport: forgeSignature{path: "/v3/certificates", key: k.WeChatMerchantKey}}
	})
	if tr, err := c.QueryTrade(context.Background(), "DLF-1"); err == nil {
		t.Fatalf("an answer verified under a certificate from a forged download: %+v", tr)
	}
	// The same client without the forger downloads and verifies.
	if _, err := newClient(t, s, func(cfg *wechat.Config) {
		cfg.PlatformPublicKeyID, cfg.PlatformPublicKeyPEM, cfg.PlatformCertDownload = "", nil, true
	}).QueryTrade(context.Background(), "DLF-1"); err != nil {
		t.Fatal(err)
	}
}
