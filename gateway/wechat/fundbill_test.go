package wechat_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/wechat"
	"github.com/paydesk/paydesk/internal/testkit"
)

func readFunds(t *testing.T, name string, data []byte) (gateway.FundReader, []gateway.FundLine, error) {
	t.Helper()
	return readFundsWith(t, name, data, gateway.BillOptions{})
}

// readFundsWith reads a fund bill through the parser WeChat Pay registered
// for its fund bills, held to opt.
func readFundsWith(t *testing.T, name string, data []byte, opt gateway.BillOptions) (gateway.FundReader, []gateway.FundLine, error) {
	t.Helper()
	f, err := gateway.LookupBillFormat(gateway.WeChat, gateway.FundBill)
	if err != nil {
		t.Fatal(err)
	}
	fr, err := f.OpenFunds(name, bytes.NewReader(data), opt)
	if err != nil {
		return nil, nil, err
	}
	lines, err := testkit.ReadAll(fr.Next)
	return fr, lines, err
}

func TestOpenFundBillCurrentLayout(t *testing.T) {
	data := testdata(t, "fundflow_basic.txt")
	for name, in := range map[string][]byte{"text": data, "gzip": gz(data)} {
		t.Run(name, func(t *testing.T) {
			fr, lines, err := readFunds(t, "fundflow_basic.txt", in)
			if err != nil {
				t.Fatal(err)
			}
			want := []gateway.FundLine{
				{Line: 2, Kind: gateway.FundPayment, Amount: 10000, Balance: 110000, FlowNo: "4200000101202611220000000201",
					TradeNo: "4200000101202611220000000201", OutTradeNo: "PD20261122W00001", Time: shanghai("2026-11-22 09:30:12"),
					Type: "交易", Remark: "结算总金额 100.00 元;含手续费 0.60 元"},
				{Line: 3, Kind: gateway.FundFee, Amount: -60, Balance: 109940, FlowNo: "4200000101202611220000000201",
					TradeNo: "4200000101202611220000000201", OutTradeNo: "PD20261122W00001", Time: shanghai("2026-11-22 09:30:12"),
					Type: "交易/扣除交易手续费", Remark: "扣除交易手续费"},
			}
			for i, w := range want {
				if lines[i] != w {
					t.Errorf("line %d:\n got %+v\nwant %+v", i, lines[i], w)
				}
			}
			r := lines[4]
			if r.Kind != gateway.FundRefund || r.RefundID != "50300101012026112200000000301" || r.OutRequestNo != "RF20261122W0001" ||
				r.TradeNo != "" || r.Amount != -2982 {
				t.Errorf("refund: %+v", r)
			}
			if w := lines[5]; w.Kind != gateway.FundWithdrawal || w.Amount != -100000 || w.TradeNo != "" {
				t.Errorf("withdrawal: %+v", w)
			}
			if o := lines[6]; o.Kind != gateway.FundOther || o.Amount != -1200 || o.Type != "其他/调账" {
				t.Errorf("other: %+v", o)
			}
			st := gateway.FundTotals{Income: 2, IncomeAmount: 15880, Expense: 5, ExpenseAmount: 104277}
			if fr.Stated() != st || fr.Computed() != st {
				t.Errorf("stated %+v computed %+v", fr.Stated(), fr.Computed())
			}
		})
	}
}

// The v2 documentation's layout: full-width parentheses, CRLF, and no
// 业务凭证号 column.
func TestOpenFundBillV2Layout(t *testing.T) {
	fr, lines, err := readFunds(t, "fundflow_v2_fullwidth.txt", testdata(t, "fundflow_v2_fullwidth.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 3 || lines[0].Kind != gateway.FundPayment || lines[0].Amount != 990 || lines[0].OutTradeNo != "" ||
		lines[1].Kind != gateway.FundFee || lines[2].Kind != gateway.FundWithdrawal || lines[2].Time != shanghai("2026-11-22 23:00:00") {
		t.Errorf("%+v", lines)
	}
	if fr.Stated().ExpenseAmount != 20006 {
		t.Errorf("stated %+v", fr.Stated())
	}
}

func TestOpenFundBillRefusals(t *testing.T) {
	for _, c := range []struct {
		file string
		data []byte
		line int
		want string
	}{
		{"fundflow_totals_disagree.txt", testdata(t, "fundflow_totals_disagree.txt"), 10, "支出金额 states 1042.78, the rows add up to 1042.77"},
		{"fundflow_gbk.txt", testdata(t, "fundflow_gbk.txt"), 1, "not UTF-8"},
		{"all_crlf_refunds.txt", testdata(t, "all_crlf_refunds.txt"), 1, "not a fund bill: this is a trade bill"},
		{"cut.txt", []byte(strings.Join(strings.Split(string(testdata(t, "fundflow_basic.txt")), "\n")[:5], "\n")), 5, "truncated"},
		{"cut_row.txt", []byte(string(testdata(t, "fundflow_basic.txt"))[:400]), 3, "values where the header has 11 columns"},
		{"dir.txt", bytes.Replace(testdata(t, "fundflow_basic.txt"), []byte("`收入,`100.00"), []byte("`入账,`100.00"), 1), 2, "收支类型 \"入账\" is neither 收入 nor 支出"},
		{"sign.txt", bytes.Replace(testdata(t, "fundflow_basic.txt"), []byte("`收入,`100.00"), []byte("`收入,`-100.00"), 1), 2, "want a positive yuan amount"},
		{"empty.txt", nil, 0, "empty file"},
		{"nolayout.txt", []byte("a,b,c\n"), 1, "unknown fund bill layout"},
	} {
		_, _, err := readFunds(t, c.file, c.data)
		var be *gateway.BillError
		if !errors.As(err, &be) || be.File != c.file || be.Line != c.line || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want line %d %q", c.file, err, c.line, c.want)
		}
	}
	// And a fund bill given to the trade bill parser.
	if _, err := wechat.OpenBill("fundflow_basic.txt", bytes.NewReader(testdata(t, "fundflow_basic.txt"))); err == nil ||
		!strings.Contains(err.Error(), "fund-flow bill") {
		t.Errorf("trade parser on a fund bill: %v", err)
	}
}

// TestOpenFundBillHoldsItsOptions: what a fund bill can be held to. Every
// row's 记账时间 must be on the day, a movement booked twice is refused, and
// so is a bill past the caps; a BOM before the header is skipped. Its
// merchant cannot be checked: the 资金账单 has no 商户号 column and states
// no account, so a configured mchid or a recorded account refuses nothing.
func TestOpenFundBillHoldsItsOptions(t *testing.T) {
	good := testdata(t, "fundflow_basic.txt")
	lines := bytes.Split(good, []byte("\n"))
	repeated := bytes.Join(append(append(append([][]byte{}, lines[:3]...), lines[2]), lines[3:]...), []byte("\n"))
	offDay := bytes.Replace(good, []byte("`2026-11-22 18:00:00"), []byte("`2026-11-23 18:00:00"), 1)
	day := shanghai("2026-11-22 12:00:00")
	for _, c := range []struct {
		name string
		data []byte
		opt  gateway.BillOptions
		kind error
		line int
		text string
	}{
		{"mchid and day", good, gateway.BillOptions{Merchant: "1900000109", Day: day}, nil, 0, ""},
		{"BOM, gzip, an account", gz(append([]byte("\ufeff"), good...)), gateway.BillOptions{Account: "1900000110", Day: day}, nil, 0, ""},
		{"other day", good, gateway.BillOptions{Day: day.AddDate(0, 0, 1)}, gateway.ErrBillDay, 2, "记账时间 2026-11-22 09:30:12 is not on the business day 2026-11-23"},
		{"a row of the next day", offDay, gateway.BillOptions{Day: day}, gateway.ErrBillDay, 7, "2026-11-23 18:00:00"},
		{"repeated movement", repeated, gateway.BillOptions{}, gateway.ErrBillRepeated, 4, "资金流水单号 4200000101202611220000000201 (交易/扣除交易手续费 -0.60) is on line 3 already"},
		{"lines", good, gateway.BillOptions{Limits: gateway.BillLimits{MaxLines: 4}}, gateway.ErrBillTooLarge, 5, "more than 4 lines"},
		{"inflated gzip", gz(good), gateway.BillOptions{Limits: gateway.BillLimits{MaxInflated: 1000}}, gateway.ErrBillTooLarge, 0, "inflates past 1000 bytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := readFundsWith(t, c.name, c.data, c.opt)
			if c.kind == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var be *gateway.BillError
			if !errors.As(err, &be) || !errors.Is(err, c.kind) || (c.line > 0 && be.Line != c.line) || !strings.Contains(err.Error(), c.text) {
				t.Fatalf("got %v; want %v at line %d saying %q", err, c.kind, c.line, c.text)
			}
		})
	}
}

// The real fund bill published with gunsluo/wechatpay-go: its summary says
// 3 records for the 2 rows its author kept, so it must fail at the summary
// row and never be taken as whole.
func TestOpenFundBillRealSample(t *testing.T) {
	dir := filepath.Join(testkit.RepoRoot(), "..", "shared", "samples", "wechat", "bill")
	for _, name := range []string{"W3_v3_fundflowbill_20210201_mch1601959334.txt", "W3_v3_fundflowbill_20210201_mch1601959334.txt.gz"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, os.ErrNotExist) {
			t.Skipf("real samples not present at %s (they live outside the repository)", dir)
		}
		if err != nil {
			t.Fatal(err)
		}
		_, lines, err := readFunds(t, name, data)
		if err == nil || !strings.Contains(err.Error(), ":5: totals disagree") || !strings.Contains(err.Error(), "资金流水总笔数 states 3 rows, the file has 2") {
			t.Errorf("%s: %v", name, err)
		}
		if len(lines) != 2 || lines[0].Kind != gateway.FundRefund || lines[0].RefundID != "50300806962021020105978994968" ||
			lines[0].OutRequestNo != "S20210201135356381941" || lines[0].Amount != -1 || lines[0].Balance != 22 {
			t.Errorf("%s: rows %+v", name, lines)
		}
	}
}
