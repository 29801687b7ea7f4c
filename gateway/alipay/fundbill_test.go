package alipay_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/alipay"
	"github.com/paydesk/paydesk/internal/testkit"
)

func readFunds(name string, data []byte) ([]gateway.FundLine, gateway.FundReader, error) {
	return readFundsWith(name, data, gateway.BillOptions{})
}

// readFundsWith reads a fund bill through the parser Alipay registered
// for its fund bills, held to opt.
func readFundsWith(name string, data []byte, opt gateway.BillOptions) ([]gateway.FundLine, gateway.FundReader, error) {
	f, err := gateway.LookupBillFormat(gateway.Alipay, gateway.FundBill)
	if err != nil {
		return nil, nil, err
	}
	fr, err := f.OpenFunds(name, bytes.NewReader(data), opt)
	if err != nil {
		return nil, nil, err
	}
	lines, err := testkit.ReadAll(fr.Next)
	return lines, fr, err
}

func fundFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(testkit.Testdata("funds", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fundZip packs a 账务明细 the way Alipay serves it: GBK contents under GBK
// entry names, the (汇总) summary first.
func fundZip(text string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range []struct{ name, text string }{
		{"20880001000000010156_20261122_账务明细(汇总).csv", "#支付宝账务汇总查询\n类型,收入笔数,收入金额（+元）,支出笔数,支出金额（-元）,总金额（元）\n合计,6,499.18,8,-390.70,108.48\n"},
		{"20880001000000010156_20261122_账务明细.csv", text},
	} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: string(toGBK(e.name)), NonUTF8: true, Method: zip.Deflate})
		if err != nil {
			panic(err)
		}
		w.Write(toGBK(e.text))
	}
	zw.Close()
	return buf.Bytes()
}

func TestOpenFundBillCurrentLayout(t *testing.T) {
	text := string(fundFixture(t, "alipay_fund_20261122.csv"))
	for name, data := range map[string][]byte{"utf8.csv": []byte(text), "gbk.csv": toGBK(text), "bill.zip": fundZip(text)} {
		t.Run(name, func(t *testing.T) {
			lines, fr, err := readFunds(name, data)
			if err != nil {
				t.Fatal(err)
			}
			if len(lines) != 14 {
				t.Fatalf("%d lines", len(lines))
			}
			want0 := gateway.FundLine{Line: 6, Kind: gateway.FundPayment, Amount: 10000, Balance: 110000, FlowNo: "20261122100000000001",
				TradeNo: "2026112222001400000000000501", OutTradeNo: "PDAF01MATCH", Time: at(t, "2026-11-22 09:00:05"), Type: "在线支付"}
			if lines[0] != want0 {
				t.Errorf("line 6:\n got %+v\nwant %+v", lines[0], want0)
			}
			fee := lines[1]
			if fee.Kind != gateway.FundFee || fee.Amount != -60 || fee.TradeNo != "2026112222001400000000000501" || fee.Remark != "服务费[2026112222001400000000000501]" {
				t.Errorf("fee: %+v", fee)
			}
			kinds := map[gateway.FundKind]int{}
			for _, l := range lines {
				kinds[l.Kind]++
			}
			if kinds[gateway.FundPayment] != 4 || kinds[gateway.FundFee] != 5 || kinds[gateway.FundRefund] != 1 ||
				kinds[gateway.FundWithdrawal] != 2 || kinds[gateway.FundOther] != 2 {
				t.Errorf("kinds %v", kinds)
			}
			back := lines[11]
			if back.Kind != gateway.FundFee || back.Amount != 18 || back.TradeNo != "2026112222001400000000000505" {
				t.Errorf("fee given back: %+v", back)
			}
			if r := lines[10]; r.Kind != gateway.FundRefund || r.Amount != -3000 || r.TradeNo != "2026112222001400000000000505" || r.OutTradeNo != "PDAF05REFUND" {
				t.Errorf("refund: %+v", r)
			}
			st := gateway.FundTotals{Income: 6, IncomeAmount: 49918, Expense: 8, ExpenseAmount: 39070}
			if fr.Stated() != st || fr.Computed() != st {
				t.Errorf("stated %+v computed %+v", fr.Stated(), fr.Computed())
			}
		})
	}
}

// The layout published since 2012: twelve columns, 0.00 in the unused
// amount column, 支出 printed positive, GBK.
func TestOpenFundBill2012Layout(t *testing.T) {
	lines, fr, err := readFunds("alipay_fund_2012_layout_gbk.csv", fundFixture(t, "alipay_fund_2012_layout_gbk.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 3 || lines[0].Amount != 227400 || lines[0].Kind != gateway.FundPayment || lines[0].OutTradeNo != "3226563" ||
		lines[1].Amount != -1364 || lines[1].Kind != gateway.FundFee || lines[1].TradeNo != "2012122923922029" {
		t.Errorf("%+v", lines)
	}
	if fr.Stated() != (gateway.FundTotals{Income: 2, IncomeAmount: 266700, Expense: 1, ExpenseAmount: 1364}) {
		t.Errorf("stated %+v", fr.Stated())
	}
}

func TestOpenFundBillRefusals(t *testing.T) {
	text := string(fundFixture(t, "alipay_fund_20261122.csv"))
	lines := strings.Split(text, "\r\n")
	cut := func(n int) string { return strings.Join(lines[:n], "\r\n") + "\r\n" }
	for _, c := range []struct {
		name string
		data []byte
		line int
		err  error
		want string
	}{
		{"totals.csv", []byte(strings.Replace(text, "共499.18元", "共499.19元", 1)), 22, alipay.ErrBillTotals, "bill states 499.19 in, the rows add up to 499.18"},
		{"count.csv", []byte(strings.Replace(text, "#支出合计：8笔", "#支出合计：9笔", 1)), 21, alipay.ErrBillTotals, "bill states 9 movements out, the rows hold 8"},
		{"no_end.csv", []byte(cut(19)), 19, alipay.ErrBillTruncated, "without the 账务明细列表结束 marker"},
		{"no_totals.csv", []byte(cut(21)), 21, alipay.ErrBillTruncated, "without its #收入合计 and #支出合计 lines"},
		{"both.csv", []byte(strings.Replace(text, "100.00,,1100.00", "100.00,-1.00,1100.00", 1)), 6, alipay.ErrBillRow, "both 收入金额（+元） (100.00) and 支出金额（-元） (-1.00)"},
		{"fields.csv", []byte(strings.Replace(text, "在线支付\t,\t,交易收款", "在线支付\t,,\t,交易收款", 1)), 6, alipay.ErrBillRow, "17 fields, the header has 16"},
		{"time.csv", []byte(strings.Replace(text, "2026-11-22 09:00:05", "2026/11/22 09:00:05", 1)), 6, alipay.ErrBillRow, "发生时间"},
		{"trade.csv", fixtures()["detail_utf8_crlf.csv"], 5, alipay.ErrBillLayout, "not a fund bill: this is a trade bill"},
		// UTF-8 after GBK: line 11's UTF-8 bytes (收费, 服务费) happen to be
		// valid GBK pairs; line 12's 熨烫套餐 is not.
		{"mixed.csv", append(toGBK(cut(10)), []byte(strings.Join(lines[10:], "\r\n"))...), 12, alipay.ErrBillEncoding, "not GBK"},
	} {
		_, _, err := readFunds(c.name, c.data)
		var be *gateway.BillError
		if !errors.As(err, &be) || !errors.Is(err, c.err) || be.Line != c.line || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v\nwant line %d, %v, %q", c.name, err, c.line, c.err, c.want)
		}
	}
	// A trade bill zip holds no 账务明细 entry.
	if _, _, err := readFunds("trade.zip", fixtures()["bill_20261122.zip"]); err == nil || !strings.Contains(err.Error(), "no …_账务明细.csv detail file") {
		t.Errorf("trade zip: %v", err)
	}
}

// TestOpenFundBillHoldsItsOptions: a fund bill is held to the merchant and
// the day as a trade bill is (#账号 against the PID or the workspace's
// account, the date window and every row's 发生时间), a movement booked twice
// is refused, and so is a bill past the caps, each at the line that shows
// it.
func TestOpenFundBillHoldsItsOptions(t *testing.T) {
	text := string(fundFixture(t, "alipay_fund_20261122.csv"))
	lines := strings.Split(text, "\r\n")
	repeated := strings.Join(append(append(append([]string{}, lines[:8]...), lines[7]), lines[8:]...), "\r\n")
	offDay := strings.Replace(text, "2026-11-22 09:30:10", "2026-11-23 00:00:10", 1)
	zipped := fundZip(text)
	day := at(t, "2026-11-22 15:00:00")
	for _, c := range []struct {
		name string
		data []byte
		opt  gateway.BillOptions
		kind error
		line int
		text string
	}{
		{"pid and day", []byte(text), gateway.BillOptions{Merchant: "2088000100000001", Day: day}, nil, 0, ""},
		{"account, zip", zipped, gateway.BillOptions{Account: "20880001000000010156", Day: day}, nil, 0, ""},
		{"other pid", []byte(text), gateway.BillOptions{Merchant: "2088000100000002"}, gateway.ErrBillMerchant, 2, "20880001000000010156 is not an account of PID 2088000100000002"},
		{"other account", zipped, gateway.BillOptions{Account: "20880001000000020156"}, gateway.ErrBillMerchant, 2, "recorded from its first bill"},
		{"other day", []byte(text), gateway.BillOptions{Day: day.AddDate(0, 0, 1)}, gateway.ErrBillDay, 3, "not the business day 2026-11-23"},
		{"a row of the next day", []byte(offDay), gateway.BillOptions{Day: day}, gateway.ErrBillDay, 8, "发生时间 2026-11-23 00:00:10 is not on the business day 2026-11-22"},
		{"repeated movement", []byte(repeated), gateway.BillOptions{}, gateway.ErrBillRepeated, 9, "账务流水号 20261122100000000003 (在线支付 19.00) is on line 8 already"},
		// A kept bill's rows are not checked for repeats again; its totals are.
		{"repeated movement, kept", []byte(repeated), gateway.BillOptions{Kept: true}, alipay.ErrBillTotals, 23, "bill states 6 movements in, the rows hold 7"},
		{"lines", []byte(text), gateway.BillOptions{Limits: gateway.BillLimits{MaxLines: 9}}, gateway.ErrBillTooLarge, 10, "more than 9 lines"},
		{"inflated csv", []byte(text), gateway.BillOptions{Limits: gateway.BillLimits{MaxInflated: 1500}}, gateway.ErrBillTooLarge, 0, "inflates past 1500 bytes"},
		{"inflated zip", zipped, gateway.BillOptions{Limits: gateway.BillLimits{MaxInflated: 1500}}, gateway.ErrBillTooLarge, 0, "more than 1500"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := readFundsWith(c.name, c.data, c.opt)
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
