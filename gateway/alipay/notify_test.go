package alipay_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/alipay"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/internal/testkit"
)

// offlineClient verifies notifications; it never calls the gateway.
func offlineClient(t testing.TB) *alipay.Client {
	t.Helper()
	k, err := testkit.LoadSandboxKeys()
	if err != nil {
		t.Fatal(err)
	}
	c, err := alipay.New(alipay.Config{
		AppID:              k.AlipayAppID,
		PrivateKeyPEM:      sandbox.PrivateKeyPEM(k.AlipayAppKey),
		AlipayPublicKeyPEM: sandbox.PublicKeyPEM(&k.AlipayPlatformKey.PublicKey),
		GatewayURL:         "http://127.0.0.1:1/gateway.do",
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// signForm signs fields the way Alipay signs a notification (non-empty
// fields but sign and sign_type, sorted, k=v&…, SHA256withRSA) and encodes
// the form. Values are taken as bytes: GBK values stay GBK.
func signForm(t testing.TB, key *rsa.PrivateKey, fields map[string]string) string {
	t.Helper()
	var keys []string
	for k, v := range fields {
		if v != "" && k != "sign" && k != "sign_type" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var content strings.Builder
	for i, k := range keys {
		if i > 0 {
			content.WriteByte('&')
		}
		content.WriteString(k + "=" + fields[k])
	}
	digest := sha256.Sum256([]byte(content.String()))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{}
	for k, v := range fields {
		form.Set(k, v)
	}
	form.Set("sign", base64.StdEncoding.EncodeToString(sig))
	return form.Encode()
}

func paymentFields(appID string) map[string]string {
	return map[string]string{
		"notify_time": "2026-11-22 10:00:02", "notify_type": "trade_status_sync", "notify_id": "2026112200222100002000000000001",
		"app_id": appID, "charset": "utf-8", "version": "1.0", "sign_type": "RSA2",
		"trade_no": "2026112222001400000000000001", "out_trade_no": "PDKN0TIFY1", "trade_status": "TRADE_SUCCESS",
		"total_amount": "88.80", "receipt_amount": "88.80", "buyer_id": "2088102177846880", "buyer_logon_id": "138****8880",
		"gmt_create": "2026-11-22 09:59:58", "gmt_payment": "2026-11-22 10:00:01", "subject": "洗衣订单",
		"fund_bill_list": `[{"amount":"88.80","fundChannel":"ALIPAYACCOUNT"}]`, "body": "",
	}
}

func with(f map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range f {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func gbk(s string) string {
	b, err := simplifiedchinese.GBK.NewEncoder().String(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestVerifyNotification(t *testing.T) {
	c := offlineClient(t)
	k := testkit.SandboxKeys(t)
	plat := k.AlipayPlatformKey
	pay := paymentFields(k.AlipayAppID)
	shanghai := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04:05.000", s, gateway.Shanghai)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	good := signForm(t, plat, pay)

	type want struct {
		err   error
		event gateway.Event
		check func(t *testing.T, n gateway.Notification)
	}
	cases := map[string]struct {
		body string
		want want
	}{
		"payment": {good, want{event: gateway.EventPayment, check: func(t *testing.T, n gateway.Notification) {
			if n.Amount != 8880 || n.OutTradeNo != "PDKN0TIFY1" || n.TradeNo != "2026112222001400000000000001" ||
				!n.PaidAt.Equal(shanghai("2026-11-22 10:00:01.000")) || n.NotifyID == "" || n.BuyerID != "2088102177846880" || string(n.Raw) != good {
				t.Fatalf("%+v", n)
			}
		}}},
		"finished":                     {signForm(t, plat, with(pay, "trade_status", "TRADE_FINISHED")), want{event: gateway.EventPayment}},
		"waiting":                      {signForm(t, plat, with(pay, "trade_status", "WAIT_BUYER_PAY", "gmt_payment", "")), want{event: gateway.EventOther}},
		"closed unpaid":                {signForm(t, plat, with(pay, "trade_status", "TRADE_CLOSED", "gmt_payment", "", "gmt_close", "2026-11-22 10:30:00")), want{event: gateway.EventClosed}},
		"bad signature":                {signForm(t, k.WeChatPlatformKey, pay), want{err: gateway.ErrBadSignature}},
		"wrong app_id":                 {signForm(t, plat, with(pay, "app_id", "2021999900000009")), want{err: gateway.ErrWrongMerchant}},
		"tampered amount":              {strings.Replace(good, "total_amount=88.80", "total_amount=8.80", 1), want{err: gateway.ErrBadSignature}},
		"tampered trade status":        {strings.Replace(signForm(t, plat, with(pay, "trade_status", "WAIT_BUYER_PAY")), "WAIT_BUYER_PAY", "TRADE_SUCCESS", 1), want{err: gateway.ErrBadSignature}},
		"truncated body":               {good[:len(good)/2], want{err: errAny}},
		"empty body":                   {"", want{err: gateway.ErrMalformed}},
		"garbage":                      {"\x00\xff%zz;;==&&", want{err: gateway.ErrMalformed}},
		"json":                         {`{"trade_status":"TRADE_SUCCESS"}`, want{err: gateway.ErrMalformed}},
		"repeated field":               {good + "&total_amount=1.00", want{err: gateway.ErrMalformed}},
		"legacy RSA sign type":         {signForm(t, plat, with(pay, "sign_type", "RSA")), want{err: gateway.ErrBadSignature}},
		"unknown charset":              {signForm(t, plat, with(pay, "charset", "big5")), want{err: gateway.ErrMalformed}},
		"utf-8 with GBK bytes":         {signForm(t, plat, with(pay, "subject", gbk("洗衣订单"))), want{err: gateway.ErrMalformed}},
		"amount not yuan":              {signForm(t, plat, with(pay, "total_amount", "88.888")), want{err: gateway.ErrMalformed}},
		"no out_trade_no":              {signForm(t, plat, with(pay, "out_trade_no", "")), want{err: gateway.ErrMalformed}},
		"bad payment time":             {signForm(t, plat, with(pay, "gmt_payment", "22/11/2026")), want{err: gateway.ErrMalformed}},
		"payment with refund_fee 0.00": {signForm(t, plat, with(pay, "refund_fee", "0.00")), want{event: gateway.EventPayment}},
		"refund without refund_fee":    {signForm(t, plat, with(pay, "out_biz_no", "RQ1", "gmt_refund", "2026-11-23 08:00:00")), want{err: gateway.ErrMalformed}},
		"refund over the amount":       {signForm(t, plat, with(pay, "refund_fee", "88.81", "out_biz_no", "RQ1", "gmt_refund", "2026-11-23 08:00:00.120")), want{err: gateway.ErrMalformed}},
		"gbk charset": {signForm(t, plat, with(pay, "charset", "gbk", "subject", gbk("洗衣订单·加急"), "body", gbk("两件衬衫"))), want{event: gateway.EventPayment,
			check: func(t *testing.T, n gateway.Notification) {
				if n.Amount != 8880 || n.OutTradeNo != "PDKN0TIFY1" {
					t.Fatalf("%+v", n)
				}
			}}},
		"partial refund": {signForm(t, plat, with(pay, "refund_fee", "20.00", "out_biz_no", "RQ1", "gmt_refund", "2026-11-23 08:00:00.120")), want{event: gateway.EventRefund,
			check: func(t *testing.T, n gateway.Notification) {
				if n.OutRequestNo != "RQ1" || n.RefundTotal != 2000 || n.Amount != 8880 || n.PlatformState != "TRADE_SUCCESS" ||
					!n.RefundedAt.Equal(shanghai("2026-11-23 08:00:00.120")) {
					t.Fatalf("%+v", n)
				}
			}}},
		"full refund closes the trade": {signForm(t, plat, with(pay, "trade_status", "TRADE_CLOSED", "refund_fee", "88.80", "out_biz_no", "RQ2", "gmt_refund", "2026-11-23 08:00:00", "gmt_close", "2026-11-23 08:00:00")), want{event: gateway.EventRefund,
			check: func(t *testing.T, n gateway.Notification) {
				if n.OutRequestNo != "RQ2" || n.RefundTotal != 8880 || n.PlatformState != "TRADE_CLOSED" {
					t.Fatalf("%+v", n)
				}
			}}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			n, err := c.VerifyNotification(http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, []byte(tc.body), time.Now())
			switch {
			case tc.want.err == errAny:
				if err == nil || !gateway.IsRejection(err) {
					t.Fatalf("want a rejection, got %v (%+v)", err, n)
				}
			case tc.want.err != nil:
				if !errors.Is(err, tc.want.err) {
					t.Fatalf("want %v, got %v (%+v)", tc.want.err, err, n)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if n.Event != tc.want.event || n.Channel != gateway.Alipay {
					t.Fatalf("event %s, want %s", n.Event, tc.want.event)
				}
				if tc.want.check != nil {
					tc.want.check(t, n)
				}
			}
		})
	}
}

var errAny = errors.New("any rejection")

func TestNotifyReply(t *testing.T) {
	c := offlineClient(t)
	if r := c.NotifyReply(nil); r.Status != 200 || string(r.Body) != "success" || !strings.HasPrefix(r.ContentType, "text/plain") {
		t.Fatalf("ack: %+v", r)
	}
	if r := c.NotifyReply(gateway.ErrBadSignature); r.Status != 200 || string(r.Body) != "fail" {
		t.Fatalf("nack: %+v", r)
	}
}

// notifySink is a merchant notify endpoint verifying with the client.
type notifySink struct {
	c    *alipay.Client
	mu   sync.Mutex
	ok   []gateway.Notification
	errs []error
}

func (s *notifySink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	n, err := s.c.VerifyNotification(r.Header, body, time.Now())
	s.mu.Lock()
	if err != nil {
		s.errs = append(s.errs, err)
	} else {
		s.ok = append(s.ok, n)
	}
	s.mu.Unlock()
	reply := s.c.NotifyReply(err)
	w.Header().Set("Content-Type", reply.ContentType)
	w.WriteHeader(reply.Status)
	w.Write(reply.Body)
}

func TestSandboxNotificationsVerify(t *testing.T) {
	modes(t, func(t *testing.T, certMode bool) {
		clk := newClock(testkit.Time(t, "2026-11-22T15:00:00+08:00"))
		s, c := start(t, certMode, clk, nil)
		sink := &notifySink{c: c}
		srv := httptest.NewServer(sink)
		defer srv.Close()
		s.SetNotifyURL(gateway.Alipay, srv.URL)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()

		paid(t, s, "PDKNOTE01", 1000, testkit.Time(t, "2026-11-22T10:00:00+08:00"))
		if _, err := c.Refund(ctx, gateway.RefundRequest{OutTradeNo: "PDKNOTE01", OutRequestNo: "RQ1", Amount: 400}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Refund(ctx, gateway.RefundRequest{OutTradeNo: "PDKNOTE01", OutRequestNo: "RQ2", Amount: 600}); err != nil {
			t.Fatal(err)
		}
		s.SetFault(gateway.Alipay, "PDKFORGED", sandbox.Fault{BadSignature: true})
		paid(t, s, "PDKFORGED", 500, testkit.Time(t, "2026-11-22T11:00:00+08:00"))
		s.SetFault(gateway.Alipay, "PDKTAMPER", sandbox.Fault{TamperAmount: -499})
		paid(t, s, "PDKTAMPER", 500, testkit.Time(t, "2026-11-22T12:00:00+08:00"))
		if err := s.WaitDelivered(ctx); err != nil {
			t.Fatal(err)
		}

		sink.mu.Lock()
		defer sink.mu.Unlock()
		if len(sink.ok) != 3 {
			t.Fatalf("verified %d notifications, want payment + 2 refunds: %+v", len(sink.ok), sink.ok)
		}
		byID := map[string]gateway.Notification{}
		for _, n := range sink.ok {
			byID[string(n.Event)+n.OutRequestNo] = n
		}
		if n := byID["PAYMENT"]; n.Amount != 1000 || n.OutTradeNo != "PDKNOTE01" {
			t.Errorf("payment: %+v", n)
		}
		if n := byID["REFUNDRQ1"]; n.RefundTotal != 400 || n.PlatformState != "TRADE_SUCCESS" {
			t.Errorf("first refund: %+v", n)
		}
		if n := byID["REFUNDRQ2"]; n.RefundTotal != 1000 || n.PlatformState != "TRADE_CLOSED" || n.RefundedAt.IsZero() {
			t.Errorf("second refund: %+v", n)
		}
		// The forged and the tampered notification were refused on every
		// attempt, so the sandbox retried each and gave up.
		if len(sink.errs) < 4 {
			t.Fatalf("%d refusals, want retries of both bad notifications", len(sink.errs))
		}
		for _, err := range sink.errs {
			if !errors.Is(err, gateway.ErrBadSignature) {
				t.Errorf("refusal: %v", err)
			}
		}
		for _, d := range s.Deliveries() {
			bad := d.OutTradeNo == "PDKFORGED" || d.OutTradeNo == "PDKTAMPER"
			if bad != d.GaveUp || d.Acked == bad {
				t.Errorf("delivery %+v", d)
			}
		}
	})
}
