package serve_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-pay/gopay"
	gpwechat "github.com/go-pay/gopay/wechat"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/internal/testenv"
	"github.com/paydesk/paydesk/internal/testkit"
	"github.com/paydesk/paydesk/store"
)

// orderStatus is an order's status in the store.
func orderStatus(t *testing.T, env *testenv.Env, out string) store.OrderStatus {
	t.Helper()
	o, err := env.Store.GetOrder(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	return o.Status
}

// postXML posts a body to the endpoint and reads the v2 answer.
func postXML(t *testing.T, url string, body []byte) (int, string, string) {
	t.Helper()
	resp, err := http.Post(url, "text/xml", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var ans struct {
		ReturnCode string `xml:"return_code"`
		ReturnMsg  string `xml:"return_msg"`
	}
	if err := xml.Unmarshal(b, &ans); err != nil {
		t.Fatalf("the answer is not v2 XML: %q", b)
	}
	return resp.StatusCode, ans.ReturnCode, ans.ReturnMsg
}

// v2Payment is a payment notification for out as the platform writes it,
// signed with key; after(f) changes fields once it is signed.
func v2Payment(t *testing.T, out string, fen int64, key string, after func(f map[string]string)) []byte {
	t.Helper()
	k := testkit.SandboxKeys(t)
	f := map[string]string{"return_code": "SUCCESS", "result_code": "SUCCESS", "appid": k.WeChatAppID, "mch_id": k.WeChatMchID,
		"nonce_str": "5K8264ILTKCH16CQ2502SI8ZNMTM67VS", "openid": "oUpF8uMEb4qRXf22hE3X68TekukE", "trade_type": "NATIVE",
		"bank_type": "OTHERS", "total_fee": strconv.FormatInt(fen, 10), "fee_type": "CNY", "cash_fee": strconv.FormatInt(fen, 10),
		"transaction_id": "4200000123202601011234567890", "out_trade_no": out, "time_end": time.Now().In(gateway.Shanghai).Format("20060102150405")}
	resign(f, key)
	if after != nil {
		after(f)
	}
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("<xml>")
	for _, k := range keys {
		fmt.Fprintf(&b, "<%s><![CDATA[%s]]></%s>", k, f[k], k)
	}
	b.WriteString("</xml>")
	return []byte(b.String())
}

// resign signs v2 fields (MD5) with key, as the platform would.
func resign(f map[string]string, key string) {
	bm := gopay.BodyMap{}
	for k, v := range f {
		if k != "sign" {
			bm.Set(k, v)
		}
	}
	f["sign"] = gpwechat.GetReleaseSign(key, gpwechat.SignType_MD5, bm)
}

// A v2-only merchant end to end: callbacks signed both ways pay orders
// exactly once, a refund is accepted and then settled by its encrypted
// notification, queries and the day's reconciliation go through v2.
func TestWeChatV2MerchantEndToEnd(t *testing.T) {
	env := testenv.New(t, testenv.Options{Serve: true, WeChatAPI: "v2"})
	ctx := context.Background()
	yesterday := time.Now().In(gateway.Shanghai).AddDate(0, 0, -1)
	orders := []testenv.Order{
		{OutTradeNo: "PDV2MD50001", Channel: gateway.WeChat, Amount: 1999, CreatedAt: yesterday.Add(-time.Minute)},
		{OutTradeNo: "PDV2HMAC001", Channel: gateway.WeChat, Amount: 2500, CreatedAt: yesterday.Add(-time.Minute)},
	}
	env.ImportOrders(t, orders...)
	env.Sandbox.SetFault(gateway.WeChat, orders[0].OutTradeNo, sandbox.Fault{DuplicateNotify: 1})
	env.Sandbox.SetFault(gateway.WeChat, orders[1].OutTradeNo, sandbox.Fault{WeChatV2: "HMAC-SHA256"})
	for _, o := range orders {
		env.Pay(t, o, yesterday)
	}
	env.WaitDelivered(t, 30*time.Second)
	for _, o := range orders {
		if st := orderStatus(t, env, o.OutTradeNo); st != store.OrderPaid {
			t.Fatalf("%s is %s", o.OutTradeNo, st)
		}
	}
	by, total := countBy(t, env.Store)
	if total != 3 || by[store.ApplyApplied] != 2 || by[store.ApplyDuplicate] != 1 {
		t.Fatalf("%d stored: %v", total, by)
	}
	for _, d := range env.Sandbox.Deliveries() {
		if !d.Acked || d.Attempts != 1 {
			t.Fatalf("not acknowledged by the XML answer: %+v", d)
		}
	}

	out, err := env.Service.Refund(ctx, orders[0].OutTradeNo, 500, "v2 refund")
	if err != nil {
		t.Fatal(err)
	}
	if out.Refund.Status != gateway.RefundPending {
		t.Fatalf("a v2 refund is accepted, not yet done: %+v", out.Refund)
	}
	env.WaitDelivered(t, 30*time.Second)
	refunds, err := env.Store.ListRefunds(ctx, store.RefundFilter{}, 0, 10)
	if err != nil || len(refunds) != 1 || refunds[0].Status != gateway.RefundSuccess || refunds[0].RefundID == "" {
		t.Fatalf("after the refund notification: %+v %v", refunds, err)
	}
	if st := orderStatus(t, env, orders[0].OutTradeNo); st != store.OrderPartiallyRefunded {
		t.Fatalf("order is %s", st)
	}

	q, err := env.Service.QueryTrade(ctx, orders[1].OutTradeNo)
	if err != nil || q.Trade == nil || q.Trade.State != gateway.TradePaid || q.Trade.Amount != 2500 {
		t.Fatalf("query through v2: %+v %v", q, err)
	}
	// A callback for an order imported late waits, and a replay applies
	// it (v2 has no freshness window to lapse).
	replayLateOrder(t, env, testenv.Order{OutTradeNo: "PDV2LATE001", Channel: gateway.WeChat, Amount: 300}, sandbox.Fault{})

	run, err := env.Service.RunRecon(ctx, ops_ReconRequest(gateway.WeChat, yesterday), nil)
	if err != nil {
		t.Fatal(err)
	}
	if run.Counts["MATCHED"].Count != 2 || run.Lines != 2 {
		t.Fatalf("yesterday's v2 bill: %d lines, %+v", run.Lines, run.Counts)
	}
}

// Each bad v2 callback is stored, refused with v2's XML, and changes
// nothing; replaying it does not make it valid.
func TestWeChatV2BadCallbacksChangeNothing(t *testing.T) {
	env := testenv.New(t, testenv.Options{Serve: true, WeChatAPI: "v2"})
	k := testkit.SandboxKeys(t)
	const out = "PDV2BAD0001"
	env.ImportOrders(t, testenv.Order{OutTradeNo: out, Channel: gateway.WeChat, Amount: 1999})
	url := env.ServeURL + "/notify/wechat"
	bomb := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">` +
		`<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><xml><return_code>SUCCESS</return_code><out_trade_no>&lol3;</out_trade_no></xml>`
	cases := []struct {
		name   string
		body   []byte
		status int
		reason string
	}{
		{"tampered (transaction_id)", v2Payment(t, out, 1999, k.WeChatV2APIKey, func(f map[string]string) { f["transaction_id"] = "4200000999999999999999999999" }), 200, "signature"},
		{"wrong key", v2Payment(t, out, 1999, strings.Repeat("w", 32), nil), 200, "signature"},
		{"other mch_id", v2Payment(t, out, 1999, k.WeChatV2APIKey, func(f map[string]string) {
			f["mch_id"] = "1900000999"
			resign(f, k.WeChatV2APIKey) // correctly signed, for another merchant
		}), 200, "not addressed to this merchant"},
		{"wrong total_fee", v2Payment(t, out, 1999, k.WeChatV2APIKey, func(f map[string]string) { f["total_fee"] = "1" }), 200, "signature"},
		{"XML bomb", []byte(bomb), 200, "DOCTYPE"},
		{"oversized", []byte("<xml><return_code>SUCCESS</return_code><attach>" + strings.Repeat("a", 70<<10) + "</attach></xml>"), 413, "larger than"},
	}
	for _, c := range cases {
		status, code, msg := postXML(t, url, c.body)
		if status != c.status || code != "FAIL" || msg == "" {
			t.Errorf("%s: %d %s %q", c.name, status, code, msg)
		}
	}
	list, err := env.Store.ListNotifications(context.Background(), store.NotificationFilter{}, 0, 100)
	if err != nil || len(list) != len(cases) {
		t.Fatalf("%d stored of %d: %v", len(list), len(cases), err)
	}
	for i, n := range list {
		c := cases[len(cases)-1-i] // newest first
		if n.VerifyStatus != store.Rejected || n.ApplyStatus != store.ApplyRejected || len(n.Body) == 0 || !strings.Contains(n.VerifyError, c.reason) {
			t.Errorf("%s: %s %s %q", c.name, n.VerifyStatus, n.ApplyStatus, n.VerifyError)
		}
		res, err := env.Service.ReplayNotification(context.Background(), n.ID)
		if err != nil || res.Verify != store.Rejected {
			t.Errorf("replay of %d: %s %v", n.ID, res.Verify, err)
		}
	}
	if st := orderStatus(t, env, out); st != store.OrderPending {
		t.Fatalf("the order became %s", st)
	}

	// Correctly signed but for another amount: stored and set aside as
	// AMOUNT_MISMATCH, never paid. It is acknowledged (the platform cannot
	// change it by sending again), as for every protocol.
	_, code, _ := postXML(t, url, v2Payment(t, out, 1, k.WeChatV2APIKey, nil))
	by, _ := countBy(t, env.Store)
	if code != "SUCCESS" || by[store.ApplyAmountMismatch] != 1 || orderStatus(t, env, out) != store.OrderPending {
		t.Fatalf("amount mismatch: %s %v %s", code, by, orderStatus(t, env, out))
	}
	// The right fen in another currency (fee_type) is no payment of it
	// either.
	usd := func(f map[string]string) {
		f["fee_type"] = "USD"
		resign(f, k.WeChatV2APIKey)
	}
	_, code, _ = postXML(t, url, v2Payment(t, out, 1999, k.WeChatV2APIKey, usd))
	by, _ = countBy(t, env.Store)
	if code != "SUCCESS" || by[store.ApplyAmountMismatch] != 2 || orderStatus(t, env, out) != store.OrderPending {
		t.Fatalf("fee_type USD: %s %v %s", code, by, orderStatus(t, env, out))
	}
}

// A merchant on APIv3 also takes v2 callbacks on the same URL.
func TestWeChatV3MerchantAlsoTakesV2Callbacks(t *testing.T) {
	env := testenv.New(t, testenv.Options{Serve: true})
	o := testenv.Order{OutTradeNo: "PDV3V2BOTH1", Channel: gateway.WeChat, Amount: 700}
	env.ImportOrders(t, o)
	env.Sandbox.SetFault(gateway.WeChat, o.OutTradeNo, sandbox.Fault{WeChatV2: "MD5"})
	env.Pay(t, o, time.Time{})
	env.WaitDelivered(t, 30*time.Second)
	if st := orderStatus(t, env, o.OutTradeNo); st != store.OrderPaid {
		t.Fatalf("order is %s", st)
	}
}

// Legacy Alipay (即时到账) beside the OpenAPI: an MD5 notification whose
// notify_id the sandbox's gateway confirms pays its order once; a forged
// one and one whose notify_id the gateway denies change nothing.
func TestLegacyAlipayEndToEnd(t *testing.T) {
	env := testenv.New(t, testenv.Options{Serve: true})
	ctx := context.Background()
	orders := []testenv.Order{
		{OutTradeNo: "PDMAPI00001", Channel: gateway.Alipay, Amount: 12345},
		{OutTradeNo: "PDMAPIFORGE", Channel: gateway.Alipay, Amount: 500},
		{OutTradeNo: "PDMAPIDENY1", Channel: gateway.Alipay, Amount: 600},
		{OutTradeNo: "PDOPENAPI01", Channel: gateway.Alipay, Amount: 700},
	}
	env.ImportOrders(t, orders...)
	env.Sandbox.SetFault(gateway.Alipay, orders[0].OutTradeNo, sandbox.Fault{AlipayMapi: true, DuplicateNotify: 1})
	env.Sandbox.SetFault(gateway.Alipay, orders[1].OutTradeNo, sandbox.Fault{AlipayMapi: true, BadSignature: true})
	env.Sandbox.SetFault(gateway.Alipay, orders[2].OutTradeNo, sandbox.Fault{AlipayMapi: true, DenyNotifyID: true})
	for _, o := range orders {
		env.Pay(t, o, time.Time{})
	}
	env.WaitDelivered(t, 30*time.Second)
	want := map[string]store.OrderStatus{orders[0].OutTradeNo: store.OrderPaid, orders[1].OutTradeNo: store.OrderPending,
		orders[2].OutTradeNo: store.OrderPending, orders[3].OutTradeNo: store.OrderPaid}
	for out, st := range want {
		if got := orderStatus(t, env, out); got != st {
			t.Errorf("%s is %s, want %s", out, got, st)
		}
	}
	list, err := env.Store.ListNotifications(ctx, store.NotificationFilter{}, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	applied := map[string]int{}
	for _, n := range list {
		switch {
		case n.ApplyStatus == store.ApplyApplied:
			applied[n.OutTradeNo]++
		case n.VerifyStatus == store.Rejected:
			if !strings.Contains(string(n.Body), "sign_type=MD5") || !strings.Contains(n.VerifyError, "signature") {
				t.Errorf("rejected %d: %s", n.ID, n.VerifyError)
			}
		case n.ApplyStatus != store.ApplyDuplicate:
			t.Errorf("notification %d: %s %s", n.ID, n.VerifyStatus, n.ApplyStatus)
		}
	}
	if applied[orders[0].OutTradeNo] != 1 || applied[orders[3].OutTradeNo] != 1 || len(applied) != 2 {
		t.Fatalf("applied: %v", applied)
	}

	// A legacy notification for an order imported late waits, and is
	// applied by a replay while the gateway still vouches for it.
	replayLateOrder(t, env, testenv.Order{OutTradeNo: "PDMAPILATE1", Channel: gateway.Alipay, Amount: 800}, sandbox.Fault{AlipayMapi: true})
}

// replayLateOrder pays an order the store does not have yet: its callback
// waits as UNKNOWN_ORDER, and once the order is imported a replay applies
// it.
func replayLateOrder(t *testing.T, env *testenv.Env, late testenv.Order, f sandbox.Fault) {
	t.Helper()
	ctx := context.Background()
	env.Sandbox.SetFault(late.Channel, late.OutTradeNo, f)
	env.Pay(t, late, time.Time{})
	env.WaitDelivered(t, 30*time.Second)
	env.ImportOrders(t, late)
	waiting, err := env.Store.ListNotifications(ctx, store.NotificationFilter{OutTradeNo: late.OutTradeNo, Apply: store.ApplyUnknownOrder}, 0, 10)
	if err != nil || len(waiting) == 0 {
		t.Fatalf("the late order's callback: %d %v", len(waiting), err)
	}
	res, err := env.Service.ReplayNotification(ctx, waiting[0].ID)
	if err != nil || res.Apply != store.ApplyApplied || orderStatus(t, env, late.OutTradeNo) != store.OrderPaid {
		t.Fatalf("replay: %+v %v", res, err)
	}
}
