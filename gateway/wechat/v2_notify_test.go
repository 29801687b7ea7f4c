package wechat_test

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	gpwechat "github.com/go-pay/gopay/wechat"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/gateway/wechat"
	"github.com/paydesk/paydesk/internal/testkit"
)

func waitDelivered(t *testing.T, s *sandbox.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitDelivered(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestV2NotificationsFromTheSandboxVerify(t *testing.T) {
	for _, st := range []string{wechat.SignMD5, wechat.SignHMACSHA256} {
		t.Run(st, func(t *testing.T) {
			s := testkit.StartSandbox(t, func(c *sandbox.Config) { c.WeChatAPI, c.WeChatV2SignType = "v2", st })
			c := newV2(t, v2Config(t, s, st))
			ep := testkit.ServeEndpoint(t, s, gateway.WeChat, c)

			paidAt := time.Now().Add(-time.Minute).Truncate(time.Second)
			tr := paidTrade(t, s, "V2N-OK", 1999, paidAt)
			waitDelivered(t, s)
			v, r, _ := ep.Take()
			if len(v) != 1 || len(r) != 0 {
				t.Fatalf("verified %+v, rejected %v", v, r)
			}
			n := v[0]
			if n.Event != gateway.EventPayment || n.OutTradeNo != "V2N-OK" || n.TradeNo != tr.TradeNo || n.Amount != 1999 ||
				n.Currency != "CNY" || !n.PaidAt.Equal(paidAt) || n.MchID != testkit.SandboxKeys(t).WeChatMchID {
				t.Fatalf("payment: %+v", n)
			}

			if _, err := c.Refund(context.Background(), gateway.RefundRequest{OutTradeNo: "V2N-OK", OutRequestNo: "V2N-R1", Amount: 999, Total: 1999}); err != nil {
				t.Fatal(err)
			}
			waitDelivered(t, s)
			v, r, _ = ep.Take()
			if len(v) != 1 || len(r) != 0 {
				t.Fatalf("refund notification: verified %+v, rejected %v", v, r)
			}
			if n := v[0]; n.Event != gateway.EventRefund || n.OutRequestNo != "V2N-R1" || n.RefundAmount != 999 || n.RefundID == "" ||
				n.OutTradeNo != "V2N-OK" || n.Amount != 1999 || n.RefundedAt.IsZero() || !strings.Contains(string(n.Raw), "<root>") {
				t.Fatalf("refund: %+v", n)
			}
			for _, d := range s.Deliveries() {
				if !d.Acked || d.Attempts != 1 {
					t.Fatalf("delivery not acknowledged by the XML reply: %+v", d)
				}
			}
		})
	}
}

// TestV2RefundOutcomesMapAsV3s: the sandbox ends v2 refunds ABNORMAL and
// CLOSED and posts their v2 refund notifications (refund_status CHANGE and
// REFUNDCLOSE in req_info); the v2 client reads both, and refundquery's
// refund_status_$n, as APIv3's REFUND.ABNORMAL and REFUND.CLOSED: ABNORMAL
// (not FAILED, as v2's CHANGE was read before) and FAILED. An ABNORMAL
// refund paid out later is SUCCESS, with its success_time.
func TestV2RefundOutcomesMapAsV3s(t *testing.T) {
	s := testkit.StartSandbox(t, func(c *sandbox.Config) { c.WeChatAPI = "v2" })
	c := newV2(t, v2Config(t, s, ""))
	ep := testkit.ServeEndpoint(t, s, gateway.WeChat, c)
	ctx := context.Background()
	for i, want := range []struct {
		ends   gateway.RefundStatus
		event  gateway.Event
		status string
	}{
		{gateway.RefundAbnormal, gateway.EventRefundAbnormal, "CHANGE"},
		{gateway.RefundFailed, gateway.EventRefundClosed, "REFUNDCLOSE"},
	} {
		out, no := "V2END-"+want.status, "V2END-R"+strconv.Itoa(i)
		paidTrade(t, s, out, 3000, time.Now().Add(-time.Minute))
		waitDelivered(t, s)
		ep.Take()
		s.SetFault(gateway.WeChat, out, sandbox.Fault{RefundEnds: want.ends})
		sent := len(s.Deliveries())
		if r, err := c.Refund(ctx, gateway.RefundRequest{OutTradeNo: out, OutRequestNo: no, Amount: 1200, Total: 3000}); err != nil || r.Status != gateway.RefundPending {
			t.Fatalf("%s: refund %+v %v", want.status, r, err)
		}
		// The platform ends the refund just after its PROCESSING answer.
		for deadline := time.Now().Add(10 * time.Second); len(s.Deliveries()) == sent; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: no refund notification", want.status)
			}
		}
		waitDelivered(t, s)
		v, r, raw := ep.Take()
		if len(v) != 1 || len(r) != 0 {
			t.Fatalf("%s: verified %+v, rejected %v", want.status, v, r)
		}
		n := v[0]
		if n.Event != want.event || n.PlatformState != want.status || n.OutRequestNo != no || n.OutTradeNo != out || n.RefundAmount != 1200 ||
			n.RefundID == "" || !n.RefundedAt.IsZero() || !strings.Contains(string(n.Raw), "<refund_status><![CDATA["+want.status+"]]>") {
			t.Fatalf("%s notification: %+v\n%s", want.status, n, n.Raw)
		}
		// The unmodified gopay opens the same req_info to the same status.
		var env struct {
			ReqInfo string `xml:"req_info"`
		}
		if err := xml.Unmarshal(raw[0], &env); err != nil {
			t.Fatal(err)
		}
		sdk, err := gpwechat.DecryptRefundNotifyReqInfo(env.ReqInfo, testkit.SandboxKeys(t).WeChatV2APIKey)
		if err != nil || sdk.RefundStatus != want.status || sdk.OutRefundNo != no || sdk.SuccessTime != "" {
			t.Fatalf("%s through gopay: %+v %v", want.status, sdk, err)
		}
		q, err := c.QueryRefund(ctx, out, no)
		if err != nil || q.Status != want.ends || q.PlatformState != want.status || q.Amount != 1200 || !q.RefundedAt.IsZero() {
			t.Fatalf("%s refundquery: %+v %v", want.status, q, err)
		}
	}
	// 异常退款 handled: the ABNORMAL refund is paid out, REFUND SUCCESS.
	if err := s.SettleRefundAs(gateway.WeChat, "V2END-CHANGE", "V2END-R0", gateway.RefundSuccess, time.Time{}); err != nil {
		t.Fatal(err)
	}
	waitDelivered(t, s)
	if v, _, _ := ep.Take(); len(v) != 1 || v[0].Event != gateway.EventRefund || v[0].RefundedAt.IsZero() {
		t.Fatalf("paid out after ABNORMAL: %+v", v)
	}
	if q, err := c.QueryRefund(ctx, "", "V2END-R0"); err != nil || q.Status != gateway.RefundSuccess || q.RefundedAt.IsZero() {
		t.Fatalf("refundquery after the payout: %+v %v", q, err)
	}
}

func TestV2ForgedNotificationsAreRefused(t *testing.T) {
	s := testkit.StartSandbox(t, func(c *sandbox.Config) { c.WeChatAPI = "v2" })
	good := newV2(t, v2Config(t, s, ""))
	other := v2Config(t, s, "")
	other.MchID = "1900000999"
	cases := []struct {
		name  string
		p     *wechat.V2Client
		fault sandbox.Fault
		want  error
	}{
		{"wrong key", good, sandbox.Fault{BadSignature: true}, gateway.ErrBadSignature},
		{"wrong key HMAC", good, sandbox.Fault{BadSignature: true, WeChatV2: wechat.SignHMACSHA256}, gateway.ErrBadSignature},
		{"total_fee tampered", good, sandbox.Fault{TamperAmount: -1000}, gateway.ErrBadSignature},
		{"another merchant", newV2(t, other), sandbox.Fault{}, gateway.ErrWrongMerchant},
	}
	for i, c := range cases {
		ep := testkit.ServeEndpoint(t, s, gateway.WeChat, c.p)
		out := "V2F-" + string(rune('A'+i))
		s.SetFault(gateway.WeChat, out, c.fault)
		paidTrade(t, s, out, 2000, time.Now())
		waitDelivered(t, s)
		ep.Refused(t, c.name, c.want)
	}
	for _, d := range s.Deliveries() {
		if d.Acked {
			t.Errorf("a refused notification was acknowledged: %+v", d)
		}
	}

	// A refund notification encrypted under another key does not open.
	ep := testkit.ServeEndpoint(t, s, gateway.WeChat, good)
	paidTrade(t, s, "V2F-REFUND", 3000, time.Now())
	waitDelivered(t, s)
	ep.Take()
	s.SetFault(gateway.WeChat, "V2F-REFUND", sandbox.Fault{BadSignature: true})
	if _, err := good.Refund(context.Background(), gateway.RefundRequest{OutTradeNo: "V2F-REFUND", OutRequestNo: "V2F-R", Amount: 100, Total: 3000}); err != nil {
		t.Fatal(err)
	}
	waitDelivered(t, s)
	ep.Refused(t, "a refund under another key", gateway.ErrBadSignature)
}

// Hostile XML is refused as malformed before anything reads its fields:
// no entity is expanded, nothing panics, the answer is v2's FAIL.
func TestV2HostileXMLIsRefused(t *testing.T) {
	s := testkit.StartSandbox(t)
	c := newV2(t, v2Config(t, s, ""))
	bomb := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">` +
		`<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;">]>` +
		`<xml><return_code>SUCCESS</return_code><appid>&lol9;</appid></xml>`
	for name, body := range map[string]string{
		"billion laughs":    bomb,
		"external entity":   `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><return_code>&e;</return_code></xml>`,
		"undeclared entity": `<xml><return_code>&e;</return_code></xml>`,
		"nested":            `<xml><return_code>SUCCESS</return_code><appid><a>1</a></appid></xml>`,
		"duplicate field":   `<xml><return_code>SUCCESS</return_code><total_fee>1</total_fee><total_fee>100000</total_fee></xml>`,
		"two roots":         `<xml><return_code>SUCCESS</return_code></xml><xml></xml>`,
		"other root":        `<root><return_code>SUCCESS</return_code></root>`,
		"truncated":         `<xml><return_code>SUCC`,
		"not UTF-8":         "<xml><return_code>\xff\xfe</return_code></xml>",
		"stray text":        `<xml>hello<return_code>SUCCESS</return_code></xml>`,
		"FAIL":              `<xml><return_code>FAIL</return_code><return_msg>x</return_msg></xml>`,
	} {
		_, err := c.VerifyNotification(nil, []byte(body), time.Now())
		if !errors.Is(err, gateway.ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
		reply := c.NotifyReply(err)
		var ans struct {
			ReturnCode string `xml:"return_code"`
			ReturnMsg  string `xml:"return_msg"`
		}
		if xml.Unmarshal(reply.Body, &ans) != nil || ans.ReturnCode != "FAIL" || ans.ReturnMsg == "" || len(ans.ReturnMsg) > 128 {
			t.Errorf("%s: reply %q", name, reply.Body)
		}
	}
}

// The shared V2a sample is a real req_info with its API key (from
// go-pay/gopay's tests): it decrypts, through the same verification a
// refund notification takes, to the refund it holds.
func TestV2aSampleReqInfoDecrypts(t *testing.T) {
	dir := testkit.SharedSamples(t, "wechat", "notify")
	read := func(name string) string {
		b, err := os.ReadFile(dir + "/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	key, info := read("V2a_refund_notify_mch_key.txt"), read("V2a_refund_notify_req_info.b64.txt")
	var want struct {
		OutRefundNo   string `xml:"out_refund_no"`
		OutTradeNo    string `xml:"out_trade_no"`
		RefundFee     int64  `xml:"refund_fee"`
		TotalFee      int64  `xml:"total_fee"`
		RefundID      string `xml:"refund_id"`
		TransactionID string `xml:"transaction_id"`
		RefundStatus  string `xml:"refund_status"`
		SuccessTime   string `xml:"success_time"`
	}
	if err := xml.Unmarshal([]byte(read("V2a_refund_notify_req_info.decrypted.xml")), &want); err != nil {
		t.Fatal(err)
	}
	c := newV2(t, wechat.V2Config{MchID: "1900000109", AppID: "wx0000000000000000", APIKey: key})
	body := `<xml><return_code>SUCCESS</return_code><appid><![CDATA[wx0000000000000000]]></appid><mch_id><![CDATA[1900000109]]></mch_id>` +
		`<nonce_str><![CDATA[TeqClE3i0mvn3DrK]]></nonce_str><req_info><![CDATA[` + info + `]]></req_info></xml>`
	n, err := c.VerifyNotification(nil, []byte(body), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	at, _ := time.ParseInLocation(time.DateTime, want.SuccessTime, gateway.Shanghai)
	if n.Event != gateway.EventRefund || n.OutRequestNo != want.OutRefundNo || n.OutTradeNo != want.OutTradeNo ||
		n.RefundAmount.Fen() != want.RefundFee || n.Amount.Fen() != want.TotalFee || n.RefundID != want.RefundID ||
		n.TradeNo != want.TransactionID || want.RefundStatus != "SUCCESS" || !n.RefundedAt.Equal(at) {
		t.Fatalf("decrypted %+v, the sample says %+v", n, want)
	}
	// The SDK decrypts it to the same refund.
	sdk, err := gpwechat.DecryptRefundNotifyReqInfo(info, key)
	if err != nil || sdk.OutRefundNo != n.OutRequestNo || sdk.RefundFee != "6" {
		t.Fatalf("SDK: %+v %v", sdk, err)
	}
	// Under any other key it is refused, not misread.
	wrong := newV2(t, wechat.V2Config{MchID: "1900000109", AppID: "wx0000000000000000", APIKey: strings.Repeat("x", 32)})
	if _, err := wrong.VerifyNotification(nil, []byte(body), time.Now()); !errors.Is(err, gateway.ErrBadSignature) {
		t.Fatalf("another key: %v", err)
	}
}

// One merchant receives both generations on one URL and answers each in
// its own protocol.
func TestMerchantTellsTheGenerationsApart(t *testing.T) {
	s := testkit.StartSandbox(t)
	v3 := newClient(t, s)
	v2 := newV2(t, v2Config(t, s, ""))
	m, err := wechat.NewMerchant("v3", v3, v2)
	if err != nil {
		t.Fatal(err)
	}
	ep := testkit.ServeEndpoint(t, s, gateway.WeChat, m)
	paidTrade(t, s, "GEN-V3", 100, time.Now())
	s.SetFault(gateway.WeChat, "GEN-V2", sandbox.Fault{WeChatV2: wechat.SignHMACSHA256})
	paidTrade(t, s, "GEN-V2", 200, time.Now())
	waitDelivered(t, s)
	if v, r, _ := ep.Take(); len(v) != 2 || len(r) != 0 {
		t.Fatalf("verified %+v, rejected %v", v, r)
	}
	if r := m.NotifyReplyTo([]byte("<xml/>"), nil); !strings.Contains(string(r.Body), "SUCCESS") || r.Status != 200 {
		t.Fatalf("v2 reply: %d %q", r.Status, r.Body)
	}
	if r := m.NotifyReplyTo([]byte(`{"id":"x"}`), nil); r.Status != http.StatusNoContent {
		t.Fatalf("APIv3 reply: %d %q", r.Status, r.Body)
	}

	// A merchant without the v2 key cannot check an XML notification:
	// paydesk's failure (resent, replayable), not a rejection.
	only3, err := wechat.NewMerchant("", v3, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := only3.VerifyNotification(nil, []byte("<xml></xml>"), time.Now()); err == nil || gateway.IsRejection(err) {
		t.Fatalf("v2 without the key: %v", err)
	}
	if _, err := wechat.NewMerchant("v2", v3, nil); err == nil {
		t.Fatal("api = v2 without a v2 client")
	}
}
