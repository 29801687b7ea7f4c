package alipay_test

import (
	"os"
	"strings"
	"testing"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/alipay"
)

// A row's text comes back as the file holds it, decoded from GBK, in the
// zip's detail entry, with its values beside the header's names.
func TestLineTextIsTheRowAsWritten(t *testing.T) {
	for _, name := range []string{"bill_20261122.zip", "detail_gbk.csv", "extra_columns.csv"} {
		t.Run(name, func(t *testing.T) {
			f, err := os.Open(fixturePath(name))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			br, err := alipay.OpenBill(name, f)
			if err != nil {
				t.Fatal(err)
			}
			lt, ok := br.(gateway.LineTexter)
			if !ok {
				t.Fatal("the Alipay bill reader gives no line text")
			}
			for range 2 {
				l, err := br.Next()
				if err != nil {
					t.Fatal(err)
				}
				x := lt.LineText()
				if x.Line != l.Line || !strings.HasPrefix(x.File, name) || len(x.Fields) != len(x.Columns) {
					t.Fatalf("line %d: %+v", l.Line, x)
				}
				if name == "bill_20261122.zip" && !strings.Contains(x.File, "业务明细.csv") {
					t.Errorf("the line is not placed in the zip's detail entry: %q", x.File)
				}
				col := map[string]string{}
				for i, c := range x.Columns {
					col[strings.TrimSpace(c)] = x.Fields[i]
				}
				if strings.TrimSpace(col["商户订单号"]) != l.OutTradeNo || strings.TrimSpace(col["商品名称"]) != l.Subject || !strings.Contains(x.Text, l.Subject) {
					t.Errorf("line %d: columns %q, text %q; the row is %+v", l.Line, col, x.Text, l)
				}
			}
		})
	}
}
