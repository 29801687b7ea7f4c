package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/store"
)

func day(s string) time.Time {
	t, _ := time.ParseInLocation(time.DateOnly, s, gateway.Shanghai)
	return t
}

func TestParseOrderFilter(t *testing.T) {
	z := gateway.Shanghai
	cases := []struct {
		in   string
		want store.OrderFilter
		text string
		err  string
	}{
		{in: "", text: ""},
		{in: "status:paid channel:wechat 2026-11-22 PD2026", want: store.OrderFilter{Status: store.OrderPaid, Channel: gateway.WeChat,
			Since: day("2026-11-22"), Until: day("2026-11-23"), Number: "PD2026"}, text: "status:PAID channel:wechat 2026-11-22 PD2026"},
		{in: "pending alipay", want: store.OrderFilter{Status: store.OrderPending, Channel: gateway.Alipay}, text: "status:PENDING channel:alipay"},
		{in: "s:partial ch:weixin", want: store.OrderFilter{Status: store.OrderPartiallyRefunded, Channel: gateway.WeChat}, text: "status:PARTIALLY_REFUNDED channel:wechat"},
		{in: "2026-11-20..2026-11-22", want: store.OrderFilter{Since: day("2026-11-20"), Until: day("2026-11-23")}, text: "2026-11-20..2026-11-22"},
		{in: "since:2026-11-20", want: store.OrderFilter{Since: day("2026-11-20")}, text: "since:2026-11-20"},
		{in: "until:2026-11-21", want: store.OrderFilter{Until: day("2026-11-22")}, text: "until:2026-11-21"},
		{in: "no:2026112222", want: store.OrderFilter{Number: "2026112222"}, text: "2026112222"},
		{in: "status:lost", err: "status:lost"},
		{in: "channel:paypal", err: "paypal"},
		{in: "2026-13-01", err: "not a date"},
		{in: "2026-11-22..2026-11-20", err: "ends before"},
		{in: "PD1 PD2", err: "one number prefix"},
		{in: "color:red", err: "unknown filter color"},
	}
	for _, c := range cases {
		q, err := parseOrderFilter(c.in, z)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want one saying %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if q.f != c.want || q.text != c.text {
			t.Errorf("%q:\n got %+v %q\nwant %+v %q", c.in, q.f, q.text, c.want, c.text)
		}
		// The shown form parses back to the same filter.
		again, err := parseOrderFilter(q.text, z)
		if err != nil || again.f != q.f {
			t.Errorf("%q: shown as %q, which parses to %+v (%v)", c.in, q.text, again.f, err)
		}
	}
}

func TestParseOtherFilters(t *testing.T) {
	z := gateway.Shanghai
	n, err := parseNotificationFilter("failed wechat order:PD1 2026-11-22", z)
	if err != nil || !n.f.Failed || n.f.Channel != gateway.WeChat || n.f.OutTradeNo != "PD1" || !n.f.Since.Equal(day("2026-11-22")) {
		t.Fatalf("notifications: %+v %v", n.f, err)
	}
	if n.text != "failed channel:wechat 2026-11-22 order:PD1" {
		t.Fatalf("notifications text %q", n.text)
	}
	if _, err := parseNotificationFilter("status:x", z); err == nil {
		t.Fatal("notifications: unknown key accepted")
	}
	r, err := parseRefundFilter("pending alipay PD9", z)
	if err != nil || r.f.Status != gateway.RefundPending || r.f.Channel != gateway.Alipay || r.f.OutTradeNo != "PD9" {
		t.Fatalf("refunds: %+v %v", r.f, err)
	}
	if _, err := parseRefundFilter("status:maybe", z); err == nil {
		t.Fatal("refunds: bad status accepted")
	}
	a, err := parseAuditFilter("op:alice action:Refund since:2026-11-22 out of stock", z)
	if err != nil || a.f.Operator != "alice" || a.f.Action != "refund" || a.f.Text != "out of stock" || !a.f.Since.Equal(day("2026-11-22")) {
		t.Fatalf("audit: %+v %v", a.f, err)
	}
	if a.text != "op:alice action:refund since:2026-11-22 out of stock" {
		t.Fatalf("audit text %q", a.text)
	}
}

// The payload is masked by gateway.MaskBuyerID (see its table test); this
// checks the walk finds every buyer field, in forms and in JSON.
func TestMaskAndPrettyPayload(t *testing.T) {
	j := prettyPayload([]byte(`{"z":1,"payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},"buyer_id":"2088102177846880","url":"https://a/b?x=1&y=2","list":[1,{"a":null}],"e":{}}`))
	want := `{
  "z": 1,
  "payer": {
    "openid": "oUp***********************6o"
  },
  "buyer_id": "208***********80",
  "url": "https://a/b?x=1&y=2",
  "list": [
    1,
    {
      "a": null
    }
  ],
  "e": {}
}`
	if j != want {
		t.Fatalf("json:\n%s\nwant:\n%s", j, want)
	}
	f := prettyPayload([]byte("trade_status=TRADE_SUCCESS&buyer_logon_id=abc%40example.com&total_amount=12.30"))
	if f != "trade_status=TRADE_SUCCESS\nbuyer_logon_id=abc**********om\ntotal_amount=12.30" {
		t.Fatalf("form:\n%s", f)
	}
	if got := prettyPayload([]byte("not json {")); got != "not json {" {
		t.Fatalf("raw: %q", got)
	}
}
