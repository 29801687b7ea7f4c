package wechat

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wechatpay-apiv3/wechatpay-go/core/auth/verifiers"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/internal/testkit"
)

// The real notification published with the SDK's own tests verifies: its
// platform certificate's key, its serial as the key id, its APIv3 key. That
// key is 16 bytes (so AES-128-GCM, whatever the algorithm label says): New
// insists on the 32 bytes a real APIv3 key has, so this test builds the
// verifier underneath New, which takes any key length AES-GCM takes.
func TestRealSampleNotificationVerifies(t *testing.T) {
	dir := testkit.SharedSamples(t, "wechat", "notify")
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	body := read("V3a_payscore_user_open_service.body.json")
	var hv map[string]string
	if err := json.Unmarshal(read("V3a_payscore_user_open_service.headers.json"), &hv); err != nil {
		t.Fatal(err)
	}
	header := http.Header{}
	for k, v := range hv {
		header.Set(k, v)
	}
	pub, err := ParsePublicKey(read("V3a_platform_cert_serial_D7CE59D1F522D701.pem"))
	if err != nil {
		t.Fatal(err)
	}
	var plain struct{ MchID, AppID string }
	wantPlain := read("V3a_resource_plaintext.json")
	if err := json.Unmarshal(wantPlain, &struct {
		MchID *string `json:"mchid"`
		AppID *string `json:"appid"`
	}{&plain.MchID, &plain.AppID}); err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(string(read("V3a_apiv3_key.txt")))
	if len(key) != 16 {
		t.Fatalf("the sample key is %d bytes; the test assumes 16", len(key))
	}
	v, err := newNotifyVerifier(plain.MchID, plain.AppID, key, verifiers.NewSHA256WithRSAPubkeyVerifier(hv["Wechatpay-Serial"], *pub))
	if err != nil {
		t.Fatal(err)
	}
	ts, _ := strconv.ParseInt(hv["Wechatpay-Timestamp"], 10, 64)
	received := time.Unix(ts, 0).Add(20 * time.Second)

	n, err := v.verify(header, body, received)
	if err != nil {
		t.Fatal(err)
	}
	if n.Event != gateway.EventOther || n.PlatformState != "PAYSCORE.USER_OPEN_SERVICE" || n.MchID != plain.MchID ||
		n.NotifyID != "3119dfba-e649-5eec-ab1e-3412bc4d2e17" || strings.TrimSpace(string(n.Raw)) != strings.TrimSpace(string(wantPlain)) {
		t.Fatalf("sample: %+v raw %s", n, n.Raw)
	}
	// The same bytes, judged at another moment or with one byte changed.
	if _, err := v.verify(header, body, time.Now()); !errors.Is(err, gateway.ErrStale) {
		t.Fatalf("sample received today: %v", err)
	}
	changed := []byte(strings.Replace(string(body), "签约成功", "签约失败", 1))
	if _, err := v.verify(header, changed, received); !errors.Is(err, gateway.ErrBadSignature) {
		t.Fatalf("sample with its summary changed: %v", err)
	}
	other, _ := newNotifyVerifier("1900000109", plain.AppID, key, verifiers.NewSHA256WithRSAPubkeyVerifier(hv["Wechatpay-Serial"], *pub))
	if _, err := other.verify(header, body, received); !errors.Is(err, gateway.ErrWrongMerchant) {
		t.Fatalf("sample for another merchant: %v", err)
	}
}

// notice is a notification made by hand with the sandbox test keys, so each
// field can be got wrong on purpose.
type notice struct {
	eventType  string
	plaintext  string
	nonce      string // resource nonce; default 12 characters
	aesKey     string // default the test APIv3 key
	signedAt   time.Time
	signingKey *rsa.PrivateKey // default the platform key
	serial     string          // default the platform key id
	resource   *bool           // false: no resource at all
}

func (nt notice) build(t testing.TB) (http.Header, []byte) {
	t.Helper()
	k := testkit.SandboxKeys(t)
	if nt.nonce == "" {
		nt.nonce = "n0nce12chars"
	}
	if nt.aesKey == "" {
		nt.aesKey = k.WeChatAPIv3Key
	}
	if nt.signedAt.IsZero() {
		nt.signedAt = time.Now()
	}
	if nt.signingKey == nil {
		nt.signingKey = k.WeChatPlatformKey
	}
	if nt.serial == "" {
		nt.serial = k.WeChatPlatformKeyID
	}
	env := map[string]any{"id": "EV-TEST-1", "create_time": "2026-11-21T10:00:00+08:00", "resource_type": "encrypt-resource",
		"event_type": nt.eventType, "summary": "测试"}
	if nt.resource == nil || *nt.resource {
		env["resource"] = map[string]string{"original_type": "transaction", "algorithm": "AEAD_AES_256_GCM",
			"ciphertext": seal(t, nt.aesKey, nt.nonce, "transaction", nt.plaintext), "associated_data": "transaction", "nonce": nt.nonce}
	}
	body, _ := json.Marshal(env)
	return signNotice(t, nt.signingKey, nt.serial, nt.signedAt, body), body
}

func seal(t testing.TB, key, nonce, ad, plaintext string) string {
	block, err := aes.NewCipher([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, max(len(nonce), 1))
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(gcm.Seal(nil, []byte(nonce), []byte(plaintext), []byte(ad)))
}

func signNotice(t testing.TB, key *rsa.PrivateKey, serial string, at time.Time, body []byte) http.Header {
	ts := strconv.FormatInt(at.Unix(), 10)
	nonce := "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"
	sum := sha256.Sum256([]byte(ts + "\n" + nonce + "\n" + string(body) + "\n"))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return http.Header{"Wechatpay-Serial": {serial}, "Wechatpay-Timestamp": {ts}, "Wechatpay-Nonce": {nonce},
		"Wechatpay-Signature": {base64.StdEncoding.EncodeToString(sig)}, "Content-Type": {"application/json"}}
}

func testClient(t testing.TB) *Client {
	t.Helper()
	k := testkit.SandboxKeys(t)
	c, err := New(Config{MchID: k.WeChatMchID, AppID: k.WeChatAppID, MerchantSerialNo: k.WeChatMerchantSerialNo,
		PrivateKeyPEM: sandbox.PrivateKeyPEM(k.WeChatMerchantKey), APIv3Key: k.WeChatAPIv3Key,
		PlatformPublicKeyID: k.WeChatPlatformKeyID, PlatformPublicKeyPEM: sandbox.PublicKeyPEM(&k.WeChatPlatformKey.PublicKey)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const (
	paidPlain = `{"mchid":"1900000109","appid":"wxd678efh567hg6787","out_trade_no":"N-1","transaction_id":"4200000000202611210000000001",` +
		`"trade_type":"NATIVE","trade_state":"SUCCESS","trade_state_desc":"支付成功","bank_type":"OTHERS","attach":"",` +
		`"success_time":"2026-11-21T10:00:00+08:00","payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},` +
		`"amount":{"total":1234,"payer_total":1234,"currency":"CNY","payer_currency":"CNY"}}`
	refundPlain = `{"mchid":"1900000109","out_trade_no":"N-1","transaction_id":"4200000000202611210000000001",` +
		`"out_refund_no":"N-1-R1","refund_id":"50300000002026112100000000001","refund_status":"SUCCESS",` +
		`"success_time":"2026-11-22T09:00:00+08:00","user_received_account":"支付用户零钱",` +
		`"amount":{"total":1234,"refund":234,"payer_total":1234,"payer_refund":234}}`
)

func TestVerifyNotification(t *testing.T) {
	c := testClient(t)
	k := testkit.SandboxKeys(t)
	now := time.Now()

	h, body := notice{eventType: "TRANSACTION.SUCCESS", plaintext: paidPlain}.build(t)
	n, err := c.VerifyNotification(h, body, now)
	if err != nil {
		t.Fatal(err)
	}
	paidAt := time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC)
	if n.Event != gateway.EventPayment || n.OutTradeNo != "N-1" || n.Amount != 1234 || n.PlatformState != "SUCCESS" ||
		!n.PaidAt.Equal(paidAt) || n.TradeNo != "4200000000202611210000000001" || n.NotifyID != "EV-TEST-1" || string(n.Raw) != paidPlain {
		t.Fatalf("payment: %+v", n)
	}
	if r := c.NotifyReply(nil); r.Status != http.StatusNoContent || len(r.Body) != 0 {
		t.Fatalf("accept reply: %+v", r)
	}

	h, body = notice{eventType: "REFUND.SUCCESS", plaintext: refundPlain}.build(t)
	n, err = c.VerifyNotification(h, body, now)
	if err != nil {
		t.Fatal(err)
	}
	if n.Event != gateway.EventRefund || n.OutRequestNo != "N-1-R1" || n.RefundAmount != 234 || n.Amount != 1234 ||
		n.RefundID != "50300000002026112100000000001" || n.RefundedAt.IsZero() {
		t.Fatalf("refund: %+v", n)
	}
	// REFUND.ABNORMAL and REFUND.CLOSED were OTHER (acknowledged, ignored)
	// before issue 11; they report the refund's new state now.
	for ev, want := range map[string]gateway.Event{"ABNORMAL": gateway.EventRefundAbnormal, "CLOSED": gateway.EventRefundClosed} {
		h, body = notice{eventType: "REFUND." + ev, plaintext: strings.Replace(refundPlain, `"SUCCESS"`, `"`+ev+`"`, 1)}.build(t)
		if n, err := c.VerifyNotification(h, body, now); err != nil || n.Event != want || n.PlatformState != ev ||
			n.OutRequestNo != "N-1-R1" || n.RefundAmount != 234 || !n.RefundedAt.IsZero() {
			t.Fatalf("%s refund: %+v, %v", ev, n, err)
		}
		// The event and the resource's refund_status must agree.
		h, body = notice{eventType: "REFUND." + ev, plaintext: refundPlain}.build(t)
		if _, err := c.VerifyNotification(h, body, now); !errors.Is(err, gateway.ErrMalformed) {
			t.Fatalf("REFUND.%s carrying refund_status SUCCESS: %v", ev, err)
		}
	}

	// An old notification verifies when judged at the time it was received:
	// a replay gives the verdict the first receipt gave.
	old := now.Add(-72 * time.Hour)
	h, body = notice{eventType: "TRANSACTION.SUCCESS", plaintext: paidPlain, signedAt: old}.build(t)
	if _, err := c.VerifyNotification(h, body, old.Add(4*time.Minute)); err != nil {
		t.Fatalf("replay of a notification fresh at receipt: %v", err)
	}

	no := false
	cases := []struct {
		name   string
		header http.Header
		body   []byte
		at     time.Time
		want   error
	}{}
	add := func(name string, nt notice, at time.Time, want error, change ...func([]byte) []byte) {
		h, b := nt.build(t)
		for _, f := range change {
			b = f(b)
		}
		cases = append(cases, struct {
			name   string
			header http.Header
			body   []byte
			at     time.Time
			want   error
		}{name, h, b, at, want})
	}
	paid := notice{eventType: "TRANSACTION.SUCCESS", plaintext: paidPlain}
	withKey := paid
	withKey.signingKey = k.WeChatMerchantKey
	add("signed by another key", withKey, now, gateway.ErrBadSignature)
	withSerial := paid
	withSerial.serial = "PUB_KEY_ID_0000000000000000000000000000000000"
	add("another key id", withSerial, now, gateway.ErrBadSignature)
	add("stale by 6 minutes", paid, now.Add(6*time.Minute), gateway.ErrStale)
	add("from 6 minutes ahead", paid, now.Add(-6*time.Minute), gateway.ErrStale)
	add("another mchid", notice{eventType: "TRANSACTION.SUCCESS", plaintext: strings.Replace(paidPlain, "1900000109", "1900000001", 1)}, now, gateway.ErrWrongMerchant)
	add("another appid", notice{eventType: "TRANSACTION.SUCCESS", plaintext: strings.Replace(paidPlain, "wxd678efh567hg6787", "wx0000000000000000", 1)}, now, gateway.ErrWrongMerchant)
	short := paid
	short.nonce = "abc"
	add("malformed nonce, correctly signed", short, now, gateway.ErrMalformed)
	add("no resource, correctly signed", notice{eventType: "TRANSACTION.SUCCESS", resource: &no}, now, gateway.ErrMalformed)
	add("success event, unpaid state", notice{eventType: "TRANSACTION.SUCCESS", plaintext: strings.Replace(paidPlain, `"trade_state":"SUCCESS"`, `"trade_state":"NOTPAY"`, 1)}, now, gateway.ErrMalformed)
	add("plaintext not JSON", notice{eventType: "TRANSACTION.SUCCESS", plaintext: "not json"}, now, gateway.ErrMalformed)
	add("truncated body", paid, now, gateway.ErrBadSignature, func(b []byte) []byte { return b[:len(b)/2] })
	// Tampered amount: whoever re-encrypts a changed resource cannot sign
	// the new body, and the signature covers the ciphertext.
	add("tampered amount", paid, now, gateway.ErrBadSignature, func(b []byte) []byte {
		var env map[string]any
		_ = json.Unmarshal(b, &env)
		res := env["resource"].(map[string]any)
		res["ciphertext"] = seal(t, k.WeChatAPIv3Key, res["nonce"].(string), "transaction", strings.Replace(paidPlain, `"total":1234`, `"total":1`, 1))
		out, _ := json.Marshal(env)
		return out
	})
	for _, tc := range cases {
		n, err := c.VerifyNotification(tc.header, tc.body, tc.at)
		t.Logf("%s: %v", tc.name, err)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: got %+v, %v; want %v", tc.name, n, err, tc.want)
		}
		if r := c.NotifyReply(err); r.Status < 400 || r.Status >= 500 || !strings.Contains(string(r.Body), `"code":"FAIL"`) {
			t.Errorf("%s: reply %d %s", tc.name, r.Status, r.Body)
		}
	}

	// Bodies that are not notifications at all, signed or not.
	h, _ = paid.build(t)
	truncSigned := signNotice(t, k.WeChatPlatformKey, k.WeChatPlatformKeyID, now, []byte(`{"id":"EV-1","resource":{"algori`))
	for name, in := range map[string]struct {
		h http.Header
		b []byte
	}{
		"garbage, signed":        {signNotice(t, k.WeChatPlatformKey, k.WeChatPlatformKeyID, now, []byte("\x00\xffgarbage")), []byte("\x00\xffgarbage")},
		"truncated JSON, signed": {truncSigned, []byte(`{"id":"EV-1","resource":{"algori`)},
		"empty body":             {h, nil},
		"no headers":             {http.Header{}, body},
		"timestamp not a number": {http.Header{"Wechatpay-Serial": {"x"}, "Wechatpay-Signature": {"x"}, "Wechatpay-Nonce": {"x"}, "Wechatpay-Timestamp": {"1e9"}}, body},
		"signature type unknown": {func() http.Header {
			h2 := h.Clone()
			h2.Set("Wechatpay-Signature-Type", "WECHATPAY2-SM2-WITH-SM3")
			return h2
		}(), body},
		"resource of wrong type":    {signNotice(t, k.WeChatPlatformKey, k.WeChatPlatformKeyID, now, []byte(`{"resource":"x"}`)), []byte(`{"resource":"x"}`)},
		"algorithm not AEAD_AES":    {signNotice(t, k.WeChatPlatformKey, k.WeChatPlatformKeyID, now, []byte(`{"resource":{"algorithm":"RSA"}}`)), []byte(`{"resource":{"algorithm":"RSA"}}`)},
		"ciphertext not base64":     {signNotice(t, k.WeChatPlatformKey, k.WeChatPlatformKeyID, now, []byte(`{"resource":{"algorithm":"AEAD_AES_256_GCM","nonce":"n0nce12chars","ciphertext":"!!"}}`)), []byte(`{"resource":{"algorithm":"AEAD_AES_256_GCM","nonce":"n0nce12chars","ciphertext":"!!"}}`)},
		"signature not base64 sent": {func() http.Header { h2 := h.Clone(); h2.Set("Wechatpay-Signature", "%%%"); return h2 }(), body},
	} {
		_, err := c.VerifyNotification(in.h, in.b, now)
		t.Logf("%s: %v", name, err)
		if !gateway.IsRejection(err) {
			t.Errorf("%s: %v; want a rejection", name, err)
		}
	}

	// Correctly signed, but sealed under another APIv3 key: paydesk's key
	// is wrong, which is no reason to reject the platform's notification.
	wrongKey := paid
	wrongKey.aesKey = "ffffffffffffffffffffffffffffffff"
	h, body = wrongKey.build(t)
	_, err = c.VerifyNotification(h, body, now)
	if err == nil || gateway.IsRejection(err) || c.NotifyReply(err).Status != http.StatusInternalServerError {
		t.Fatalf("resource under another APIv3 key: %v", err)
	}
}
