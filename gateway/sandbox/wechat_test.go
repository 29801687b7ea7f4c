package sandbox_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/auth/validators"
	"github.com/wechatpay-apiv3/wechatpay-go/core/auth/verifiers"
	"github.com/wechatpay-apiv3/wechatpay-go/core/notify"
	"github.com/wechatpay-apiv3/wechatpay-go/core/option"
	"github.com/wechatpay-apiv3/wechatpay-go/services/payments"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/internal/testkit"
)

// wechatRequest sends a request signed by hand, so each part of the
// Authorization header can be got wrong on purpose. fields override or add
// Authorization fields; order lists the fields in the order to write them.
// sent, when given, is sent instead of the body that was signed.
func wechatRequest(t *testing.T, s *sandbox.Server, method, uri, body string, key *rsa.PrivateKey, order []string, fields map[string]string, sent ...string) (int, map[string]string) {
	t.Helper()
	k := testkit.SandboxKeys(t)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	nonce := "593BEC0C930BF1AFEB40B4A08C8FB242"
	sum := sha256.Sum256([]byte(method + "\n" + uri + "\n" + ts + "\n" + nonce + "\n" + body + "\n"))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	f := map[string]string{"mchid": k.WeChatMchID, "nonce_str": nonce, "timestamp": ts, "serial_no": k.WeChatMerchantSerialNo,
		"signature": base64.StdEncoding.EncodeToString(sig)}
	for name, v := range fields {
		f[name] = v
	}
	var parts []string
	for _, name := range order {
		parts = append(parts, fmt.Sprintf("%s=%q", name, f[name]))
	}
	if len(sent) > 0 {
		body = sent[0]
	}
	req, _ := http.NewRequest(method, s.URL()+uri, strings.NewReader(body))
	req.Header.Set("Authorization", "WECHATPAY2-SHA256-RSA2048 "+strings.Join(parts, ","))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]string
	_ = json.Unmarshal(raw, &out)
	// Every answer, refusals included, is signed by the platform key.
	if resp.Header.Get("Wechatpay-Serial") != k.WeChatPlatformKeyID {
		t.Fatalf("answer without the platform's serial: %v", resp.Header)
	}
	msg := resp.Header.Get("Wechatpay-Timestamp") + "\n" + resp.Header.Get("Wechatpay-Nonce") + "\n" + string(raw) + "\n"
	asig, _ := base64.StdEncoding.DecodeString(resp.Header.Get("Wechatpay-Signature"))
	h := sha256.Sum256([]byte(msg))
	if err := rsa.VerifyPKCS1v15(&k.WeChatPlatformKey.PublicKey, crypto.SHA256, h[:], asig); err != nil {
		t.Fatalf("answer signature: %v", err)
	}
	return resp.StatusCode, out
}

func TestWeChatChecksRequestSignatures(t *testing.T) {
	s := testkit.StartSandbox(t)
	k := testkit.SandboxKeys(t)
	if _, err := s.CreateTrade(sandbox.TradeSpec{Channel: gateway.WeChat, OutTradeNo: "AUTH-1", Amount: 100}); err != nil {
		t.Fatal(err)
	}
	uri := "/v3/pay/transactions/out-trade-no/AUTH-1?mchid=" + k.WeChatMchID
	std := []string{"mchid", "nonce_str", "timestamp", "serial_no", "signature"}
	shuffled := []string{"signature", "serial_no", "timestamp", "mchid", "nonce_str"}

	if st, body := wechatRequest(t, s, "GET", uri, "", k.WeChatMerchantKey, shuffled, nil); st != 200 || body["trade_state"] != "NOTPAY" {
		t.Fatalf("fields in another order: %d %v", st, body)
	}
	refused := map[string]struct {
		key    *rsa.PrivateKey
		order  []string
		fields map[string]string
	}{
		"signed by another key": {k.WeChatPlatformKey, std, nil},
		"another mchid":         {k.WeChatMerchantKey, std, map[string]string{"mchid": "1900000001"}},
		"another serial":        {k.WeChatMerchantKey, std, map[string]string{"serial_no": "0000"}},
		"old timestamp":         {k.WeChatMerchantKey, std, map[string]string{"timestamp": strconv.FormatInt(time.Now().Add(-10*time.Minute).Unix(), 10)}},
		"no signature":          {k.WeChatMerchantKey, std[:4], nil},
		"nonce changed":         {k.WeChatMerchantKey, std, map[string]string{"nonce_str": "X"}},
	}
	for name, c := range refused {
		st, body := wechatRequest(t, s, "GET", uri, "", c.key, c.order, c.fields)
		if st != http.StatusUnauthorized || body["code"] != "SIGN_ERROR" {
			t.Errorf("%s: %d %v", name, st, body)
		}
	}
	resp, err := http.Get(s.URL() + uri)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unsigned request: %d", resp.StatusCode)
	}
	// The body is signed too: a signature over another body is refused.
	body := `{"out_trade_no":"AUTH-1","out_refund_no":"R","amount":{"refund":1,"total":100,"currency":"CNY"}}`
	if st, out := wechatRequest(t, s, "POST", "/v3/refund/domestic/refunds", body, k.WeChatMerchantKey, std, nil, strings.Replace(body, `"refund":1`, `"refund":99`, 1)); st != http.StatusUnauthorized || out["code"] != "SIGN_ERROR" {
		t.Fatalf("changed body: %d %v", st, out)
	}
	if st, out := wechatRequest(t, s, "POST", "/v3/refund/domestic/refunds", body, k.WeChatMerchantKey, std, nil); st != http.StatusBadRequest || out["code"] != "INVALID_REQUEST" {
		t.Fatalf("refund of an unpaid order: %d %v", st, out)
	}
}

func TestWeChatRefundRequestNumbersAreMerchantWide(t *testing.T) {
	s := testkit.StartSandbox(t)
	k := testkit.SandboxKeys(t)
	at := time.Now().Add(-time.Hour)
	for _, out := range []string{"U-1", "U-2"} {
		if _, err := s.CreateTrade(sandbox.TradeSpec{Channel: gateway.WeChat, OutTradeNo: out, Amount: 100}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Pay(gateway.WeChat, out, at); err != nil {
			t.Fatal(err)
		}
	}
	std := []string{"mchid", "nonce_str", "timestamp", "serial_no", "signature"}
	refund := func(out, no string, amount int) (int, map[string]string) {
		body := fmt.Sprintf(`{"out_trade_no":%q,"out_refund_no":%q,"amount":{"refund":%d,"total":100,"currency":"CNY"}}`, out, no, amount)
		return wechatRequest(t, s, "POST", "/v3/refund/domestic/refunds", body, k.WeChatMerchantKey, std, nil)
	}
	if st, out := refund("U-1", "RN-1", 40); st != 200 || out["status"] != "SUCCESS" {
		t.Fatalf("first refund: %d %v", st, out)
	}
	if st, out := refund("U-2", "RN-1", 40); st != 400 || out["code"] != "INVALID_REQUEST" {
		t.Fatalf("the same number on another order: %d %v", st, out)
	}
	if st, out := refund("U-1", "RN-1", 50); st != 400 || out["code"] != "INVALID_REQUEST" {
		t.Fatalf("the same number with another amount: %d %v", st, out)
	}
	if st, out := refund("U-1", "RN-2", 61); st != 400 || !strings.Contains(out["message"], "可退金额") {
		t.Fatalf("above the refundable amount: %d %v", st, out)
	}
	if st, out := wechatRequest(t, s, "GET", "/v3/bill/tradebill?bill_date=2026-13-01", "", k.WeChatMerchantKey, std, nil); st != 400 || out["code"] != "PARAM_ERROR" {
		t.Fatalf("bad bill date: %d %v", st, out)
	}
}

// Notifications as delivered, checked with nothing but the official SDK's
// notify handler and the platform public key.
func TestWeChatNotificationsVerifyWithTheSDKHandler(t *testing.T) {
	k := testkit.SandboxKeys(t)
	handler, err := notify.NewRSANotifyHandler(k.WeChatAPIv3Key, verifiers.NewSHA256WithRSAPubkeyVerifier(k.WeChatPlatformKeyID, k.WeChatPlatformKey.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	got := map[string][]string{} // out_trade_no → event types verified, or "rejected"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var content map[string]any
		req, err := handler.ParseNotifyRequest(context.Background(), r, &content)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			// The resource is encrypted: a rejected notification cannot
			// say which order it was about.
			got["rejected"] = append(got["rejected"], err.Error())
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		out, _ := content["out_trade_no"].(string)
		got[out] = append(got[out], req.EventType)
		if req.EventType == "TRANSACTION.SUCCESS" {
			var tx payments.Transaction
			if err := json.Unmarshal([]byte(req.Resource.Plaintext), &tx); err != nil || *tx.Amount.Total != 700 || *tx.TradeState != "SUCCESS" {
				t.Errorf("transaction resource %s: %v", req.Resource.Plaintext, err)
			}
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	s := testkit.StartSandbox(t, func(c *sandbox.Config) { c.NotifyURL = map[gateway.Channel]string{gateway.WeChat: srv.URL} })
	s.SetFault(gateway.WeChat, "N-BAD", sandbox.Fault{BadSignature: true})
	s.SetFault(gateway.WeChat, "N-TAMPER", sandbox.Fault{TamperAmount: 1})
	for _, out := range []string{"N-OK", "N-BAD", "N-TAMPER"} {
		if _, err := s.CreateTrade(sandbox.TradeSpec{Channel: gateway.WeChat, OutTradeNo: out, Amount: 700}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Pay(gateway.WeChat, out, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.ConsoleRefund(sandbox.RefundSpec{Channel: gateway.WeChat, OutTradeNo: "N-OK", Amount: 300}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitDelivered(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if ok := strings.Join(got["N-OK"], ","); ok != "TRANSACTION.SUCCESS,REFUND.SUCCESS" && ok != "REFUND.SUCCESS,TRANSACTION.SUCCESS" {
		t.Fatalf("N-OK: %v", got)
	}
	attempts := 1 + len(testkit.FastRetries[gateway.WeChat])
	if len(got["rejected"]) != 2*attempts || len(got["N-BAD"]) != 0 || len(got["N-TAMPER"]) != 0 {
		t.Fatalf("faulty notifications: %v", got)
	}
	for _, d := range s.Deliveries() {
		if faulty := d.OutTradeNo != "N-OK"; d.Acked == faulty || d.Attempts != map[bool]int{true: attempts, false: 1}[faulty] {
			t.Errorf("delivery %+v", d)
		}
	}
}

// sdk is the official client pointed at the sandbox by its transport.
type sdkTransport struct{ base string }

func (t sdkTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	if r.URL.Host == "api.mch.weixin.qq.com" {
		u, _ := url.Parse(t.base)
		r.URL.Scheme, r.URL.Host, r.Host = u.Scheme, u.Host, ""
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestWeChatTradeBillEndpoint(t *testing.T) {
	k := testkit.SandboxKeys(t)
	now := time.Date(2026, 11, 22, 15, 0, 0, 0, gateway.Shanghai)
	s := testkit.StartSandbox(t, func(c *sandbox.Config) { c.Now = func() time.Time { return now } })
	c, err := core.NewClient(context.Background(),
		option.WithWechatPayPublicKeyAuthCipher(k.WeChatMchID, k.WeChatMerchantSerialNo, k.WeChatMerchantKey, k.WeChatPlatformKeyID, &k.WeChatPlatformKey.PublicKey),
		option.WithHTTPClient(&http.Client{Transport: sdkTransport{s.URL()}}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateTrade(sandbox.TradeSpec{Channel: gateway.WeChat, OutTradeNo: "BILL-1", Amount: 1000, Subject: "账单"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pay(gateway.WeChat, "BILL-1", now.Add(-24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	bill := func(query string) (map[string]string, error) {
		res, err := c.Get(ctx, "https://api.mch.weixin.qq.com/v3/bill/tradebill?"+query)
		if err != nil {
			return nil, err
		}
		var out map[string]string
		return out, json.NewDecoder(res.Response.Body).Decode(&out)
	}
	// Without tar_type the file is the text itself, and its SHA1 is stated.
	ans, err := bill("bill_date=2026-11-21&bill_type=SUCCESS")
	if err != nil {
		t.Fatal(err)
	}
	dl := core.NewClientWithValidator(c, &validators.NullValidator{})
	res, err := dl.Get(ctx, ans["download_url"])
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(res.Response.Body)
	sum := sha1.Sum(text)
	// The platform's bills start with a UTF-8 BOM, and hash_value covers
	// the bytes as served, BOM included.
	if hex.EncodeToString(sum[:]) != ans["hash_value"] || !bytes.HasPrefix(text, []byte("\xef\xbb\xbf交易时间,公众账号ID")) ||
		!bytes.Contains(text, []byte("\r\n`2026-11-21 15:00:00,`"+k.WeChatAppID+",`"+k.WeChatMchID+",`0,`,`")) ||
		!bytes.HasSuffix(text, []byte("\r\n`1,`10.00,`0.00,`0.00,`0.06000,`10.00,`0.00\r\n")) {
		t.Fatalf("SUCCESS bill (%s):\n%s", ans["hash_value"], text)
	}
	// wechatpay-axios-plugin (lib/formatter.js, Formatter.castCsvBill) drops
	// the first three bytes of a bill unconditionally, then splits the
	// header at commas: with the BOM there, its first column reads 交易时间
	// (without it, "时间").
	if first := strings.SplitN(string(text[3:]), ",", 2)[0]; first != "交易时间" {
		t.Fatalf("the official Node client would read the first column as %q", first)
	}
	// Gzipped, the SHA1 is still of the text as made, BOM included.
	gzAns, err := bill("bill_date=2026-11-21&bill_type=SUCCESS&tar_type=GZIP")
	if err != nil {
		t.Fatal(err)
	}
	gzRes, err := dl.Get(ctx, gzAns["download_url"])
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(gzRes.Response.Body)
	if err != nil {
		t.Fatal(err)
	}
	inflated, _ := io.ReadAll(zr)
	if gzSum := sha1.Sum(inflated); hex.EncodeToString(gzSum[:]) != gzAns["hash_value"] || !bytes.Equal(inflated, text) {
		t.Fatalf("gzip bill: sha1 %x, stated %s", gzSum, gzAns["hash_value"])
	}
	// The download needs a signed request.
	if resp, err := http.Get(ans["download_url"]); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unsigned download: %v %v", resp, err)
	}
	for query, code := range map[string]string{
		"bill_date=2026-11-22":                  "STATEMENT_CREATING", // today
		"bill_date=2026-11-23":                  "PARAM_ERROR",        // the future
		"bill_date=2026-11-20":                  "NO_STATEMENT_EXIST", // no trades
		"bill_date=2026-11-21&bill_type=FOO":    "PARAM_ERROR",
		"bill_date=2026-11-21&tar_type=ZIP":     "PARAM_ERROR",
		"bill_date=2026-11-21&bill_type=REFUND": "NO_STATEMENT_EXIST", // no refunds that day
	} {
		if _, err := bill(query); !core.IsAPIError(err, code) {
			t.Errorf("%s: %v, want %s", query, err, code)
		}
	}
}

func TestWeChatBillWriterRefusesRowsItsLayoutHasNot(t *testing.T) {
	for kind, write := range map[string]func(*sandbox.WeChatBillWriter) error{
		"SUCCESS": func(w *sandbox.WeChatBillWriter) error { return w.Refund(&sandbox.WeChatBillRow{}) },
		"REFUND":  func(w *sandbox.WeChatBillWriter) error { return w.Payment(&sandbox.WeChatBillRow{}) },
	} {
		w, err := sandbox.NewWeChatBillWriter(io.Discard, kind)
		if err != nil || write(w) == nil {
			t.Errorf("%s: %v", kind, err)
		}
	}
	if _, err := sandbox.NewWeChatBillWriter(io.Discard, "FUNDFLOW"); err == nil {
		t.Error("unknown bill type accepted")
	}
}
