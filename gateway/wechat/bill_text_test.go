package wechat_test

import (
	"strings"
	"testing"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/wechat"
)

// A row's text comes back as the file holds it (backticks and all), with
// its values beside the header's names.
func TestLineTextIsTheRowAsWritten(t *testing.T) {
	data := testdata(t, "all_crlf_refunds.txt")
	br, err := wechat.OpenBill("all.csv", strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	lt, ok := br.(gateway.LineTexter)
	if !ok {
		t.Fatal("the WeChat bill reader gives no line text")
	}
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	for range 3 {
		l, err := br.Next()
		if err != nil {
			t.Fatal(err)
		}
		x := lt.LineText()
		if x.Line != l.Line || x.File != "all.csv" || x.Text != lines[l.Line-1] || len(x.Fields) != len(x.Columns) {
			t.Fatalf("line %d: %+v", l.Line, x)
		}
		col := map[string]string{}
		for i, c := range x.Columns {
			col[c] = x.Fields[i]
		}
		if col["商户订单号"] != l.OutTradeNo || col["微信订单号"] != l.TradeNo {
			t.Errorf("line %d: columns %q; the row is %+v", l.Line, col, l)
		}
	}
}
