package gateway

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestMaskBuyerID(t *testing.T) {
	for _, tc := range []struct{ kind, id, want string }{
		{"Alipay buyer_id", "2088102177846880", "208***********80"},
		{"Alipay buyer_open_id", "074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo", "074*****************************************Co"},
		{"logon id: mobile number", "13812345678", "138******78"},
		{"logon id: mobile as Alipay masks it", "138****5678", "138******78"},
		{"logon id: e-mail", "zhang.san@example.com", "zha****************om"},
		{"logon id: e-mail as Alipay masks it", "abc***@example.com", "abc*************om"},
		{"logon id: short e-mail", "ab@qq.com", "a*******m"},
		{"WeChat openid", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", "oUp***********************6o"},
		{"WeChat payer sub_openid", "o3Ge05MIfXO1l6mAzEwGVdGP5aVs", "o3G***********************Vs"},
		{"payer id of another kind", "PAYER-778899", "PAY*******99"},
		{"Chinese logon name", "张三丰的账号名称很长啊", "张三丰******长啊"},
		{"tiny", "abc", "***"},
		{"empty", "", ""},
	} {
		if got := MaskBuyerID(tc.id); got != tc.want {
			t.Errorf("%s: MaskBuyerID(%q) = %q, want %q", tc.kind, tc.id, got, tc.want)
		}
	}
}

func TestMaskBuyerIDsInText(t *testing.T) {
	for in, want := range map[string]string{
		"buyer 2088102177846875 paid":                       "buyer 208***********75 paid",
		"openid oUpF8uMuAJO_M2pxb1Q9zNjWeS6o.":              "openid oUp***********************6o.",
		"call 13812345678 about it":                         "call 138******78 about it",
		"bad signature: field \"13812345678\" appears 2":    "bad signature: field \"138******78\" appears 2",
		"ids 2088102177846875,oUpF8uMuAJO_M2pxb1Q9zNjWeS6o": "ids 208***********75,oUp***********************6o",
		// Longer numbers that hold an id's digits are other numbers.
		"trade 2026112222001420881021778468750001": "trade 2026112222001420881021778468750001",
		"order PD2088102177846875":                 "order PD2088102177846875",
		"order PDA0000001 of 12.30":                "order PDA0000001 of 12.30",
		"¥12345678901.00 and 12345678901":          "¥12345678901.00 and 12345678901",
		"mail li.na@example.com":                   "mail li.na@example.com",
		"":                                         "",
	} {
		if got := MaskBuyerIDs(in); got != want {
			t.Errorf("MaskBuyerIDs(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIsBuyerField(t *testing.T) {
	for _, name := range []string{"buyer_id", "buyer_logon_id", "buyer_open_id", "openid", "sub_openid", "sp_openid", "payer_id", "Buyer_Logon_Id", "用户标识", "对方账户 "} {
		if !IsBuyerField(name, false) {
			t.Errorf("%s is not a buyer field", name)
		}
	}
	if IsBuyerField("out_trade_no", false) || !IsBuyerField("anything", true) {
		t.Error("out_trade_no is a buyer field, or a payer object's field is not")
	}
}

func TestMaskLogs(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(MaskLogs(slog.NewJSONHandler(&buf, nil))).With("who", "2088102177846875")
	log.Warn("callback from 13812345678", "detail", "field 2088102177846880 twice", "err", errors.New("openid oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"),
		slog.Group("g", "inner", "2088102177846881"), "amount", 13812345678)
	out := buf.String()
	for _, raw := range []string{"2088102177846875", "13812345678\"", "2088102177846880", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", "2088102177846881", "from 13812345678"} {
		if strings.Contains(out, raw) {
			t.Errorf("log line has %q unmasked: %s", raw, out)
		}
	}
	for _, masked := range []string{"208***********75", "138******78", "208***********80", "oUp***********************6o", "208***********81", `"amount":13812345678`} {
		if !strings.Contains(out, masked) {
			t.Errorf("log line lacks %q: %s", masked, out)
		}
	}
}
