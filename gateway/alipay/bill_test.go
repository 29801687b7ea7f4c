package alipay_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/alipay"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/internal/testkit"
)

// readBill reads a bill to its end, returning the lines and the error that
// ended it (nil at a clean io.EOF).
func readBill(name string, r io.Reader) ([]gateway.BillLine, gateway.BillReader, error) {
	br, err := alipay.OpenBill(name, r)
	if err != nil {
		return nil, nil, err
	}
	lines, err := testkit.ReadAll(br.Next)
	return lines, br, err
}

func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation(time.DateTime, s, gateway.Shanghai)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// The five rows of the good fixtures, as lines.
func wantFixtureLines(t *testing.T) []gateway.BillLine {
	return []gateway.BillLine{
		{Line: 6, Kind: gateway.LinePayment, TradeNo: "2026112222001400000000000101", OutTradeNo: "PDK9F2A7C1", Amount: 3580, Net: 3580, Fee: 21, Time: at(t, "2026-11-22 09:58:20"), State: "交易", Subject: "洗衣订单-衬衫2件"},
		{Line: 7, Kind: gateway.LinePayment, TradeNo: "2026112222001400000000000102", OutTradeNo: "PDKB81X3Z2", Amount: 8880, Net: 8880, Fee: 53, Time: at(t, "2026-11-22 13:01:05"), State: "交易", Subject: "干洗 大衣"},
		{Line: 8, Kind: gateway.LineRefund, TradeNo: "2026112222001400000000000102", OutTradeNo: "PDKB81X3Z2", OutRequestNo: "RQ20261122A", Amount: 3000, Net: -3000, Fee: -18, Time: at(t, "2026-11-22 18:30:41"), State: "退款", RefundStatus: gateway.RefundSuccess, Subject: "干洗 大衣"},
		{Line: 9, Kind: gateway.LineRefund, TradeNo: "2026112022001400000000000077", OutTradeNo: "PDKOLD0077", OutRequestNo: "RQ20261122B", Amount: 2880, Net: -2880, Fee: -17, Time: at(t, "2026-11-22 20:15:00"), State: "退款", RefundStatus: gateway.RefundSuccess, Subject: "洗鞋"},
		{Line: 10, Kind: gateway.LinePayment, TradeNo: "2026112222001400000000000103", OutTradeNo: "PDKLATE003", Amount: 670, Net: 670, Fee: 4, Time: at(t, "2026-11-22 23:59:59"), State: "交易", Subject: "熨烫"},
	}
}

func TestOpenBillFixtures(t *testing.T) {
	good := []string{"bill_20261122.zip", "detail_gbk.csv", "detail_utf8_crlf.csv", "extra_columns.csv", "reordered_columns.csv", "old_totals.csv",
		"fee_positive.csv", "fee_positive.zip"}
	for _, name := range good {
		t.Run(name, func(t *testing.T) {
			f, err := os.Open(fixturePath(name))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			lines, br, err := readBill(name, f)
			if err != nil {
				t.Fatal(err)
			}
			want := wantFixtureLines(t)
			if len(lines) != len(want) {
				t.Fatalf("%d lines, want %d", len(lines), len(want))
			}
			for i := range want {
				if lines[i] != want[i] {
					t.Errorf("line %d:\n got %+v\nwant %+v", i, lines[i], want[i])
				}
			}
			c := br.Computed()
			if c.Payments != 3 || c.PaymentAmount != 13130 || c.Refunds != 2 || c.RefundAmount != 5880 || c.Net != 7250 || c.Fees != 43 {
				t.Errorf("computed %+v", c)
			}
			s := br.Stated()
			if s.Payments != 3 || s.Refunds != 2 {
				t.Errorf("stated %+v", s)
			}
			if name == "old_totals.csv" {
				if s.PaymentAmount != 13130 || s.RefundAmount != 5880 {
					t.Errorf("stated %+v", s)
				}
			} else if s.Net != 7250 {
				t.Errorf("stated %+v", s)
			}
		})
	}
}

func TestOpenBillFixtureErrors(t *testing.T) {
	cases := []struct {
		name string
		kind error
		line int    // 0: the file as a whole
		file string // the name errors carry, when not the fixture's
		text string // in the message
	}{
		{"truncated.csv", alipay.ErrBillTruncated, 8, "", "业务明细列表结束"},
		{"truncated_mid_row.csv", alipay.ErrBillRow, 9, "", "fields"},
		{"no_totals.csv", alipay.ErrBillTruncated, 11, "", "#交易合计"},
		{"truncated.zip", alipay.ErrBillTruncated, 0, "", "zip"},
		{"summary_only.zip", alipay.ErrBillLayout, 0, "", "业务明细.csv"},
		{"utf16.csv", alipay.ErrBillEncoding, 1, "", "UTF-16"},
		{"mixed_encoding.csv", alipay.ErrBillEncoding, 7, "", "业务类型 is not UTF-8"},
		{"totals_disagree.csv", alipay.ErrBillTotals, 12, "", "131.31"},
		{"count_disagree.csv", alipay.ErrBillTotals, 13, "", "1 refunds"},
		{"bad_amount.csv", alipay.ErrBillRow, 6, "", "35.805"},
		{"unknown_business_type.csv", alipay.ErrBillRow, 7, "", "冻结"},
		{"missing_column.csv", alipay.ErrBillLayout, 5, "", "服务费（元）"},
		{"net_disagrees.csv", alipay.ErrBillRow, 6, "", "实收净额（元） 35.80 is neither"},
		{"summary_disagrees.zip", alipay.ErrBillTotals, 6, "", "4 payments"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := os.Open(fixturePath(tc.name))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			lines, _, err := readBill(tc.name, f)
			var be *gateway.BillError
			if !errors.As(err, &be) {
				t.Fatalf("want a *gateway.BillError, got %v after %d lines", err, len(lines))
			}
			if !errors.Is(err, tc.kind) || be.Line != tc.line || !strings.HasPrefix(be.File, tc.name) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("got %v (file %q line %d); want %v at line %d mentioning %q", err, be.File, be.Line, tc.kind, tc.line, tc.text)
			}
		})
	}
}

func TestOpenBillNamesTheEntryOfAZip(t *testing.T) {
	bad := strings.Replace(fixtureText(fixtureHeader, fixtureRows, fixtureTail(goodPayTotal, goodRefundTotal)), ",6.70,6.70,", ",6.7O,6.70,", 1)
	z := fixtureZip(map[string]string{"20880001000000010156_20261122_业务明细.csv": bad})
	_, _, err := readBill("bill.zip", bytes.NewReader(z))
	var be *gateway.BillError
	if !errors.As(err, &be) || be.File != "bill.zip/20880001000000010156_20261122_业务明细.csv" || be.Line != 10 || !errors.Is(err, alipay.ErrBillRow) {
		t.Fatalf("%v", err)
	}
	// Stored (not deflated) entries read too, and a changed byte fails the
	// entry's CRC-32 before any total could be trusted.
	var stored bytes.Buffer
	zw := zip.NewWriter(&stored)
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: string(toGBK("2088_20261122_业务明细.csv")), NonUTF8: true, Method: zip.Store})
	w.Write(toGBK(fixtureText(fixtureHeader, fixtureRows, fixtureTail(goodPayTotal, goodRefundTotal))))
	zw.Close()
	if lines, _, err := readBill("stored.zip", bytes.NewReader(stored.Bytes())); err != nil || len(lines) != 5 {
		t.Fatalf("stored zip: %d lines, %v", len(lines), err)
	}
	changed := bytes.Replace(stored.Bytes(), []byte(",35.80,35.80,"), []byte(",35.80,35.81,"), 1)
	_, _, err = readBill("stored.zip", bytes.NewReader(changed))
	if !errors.As(err, &be) || !errors.Is(err, alipay.ErrBillTruncated) || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("changed stored zip: %v", err)
	}
	br, err := alipay.OpenBill("bill.zip", strings.NewReader("PK\x03\x04 not really a zip"))
	if err == nil || br != nil {
		t.Fatal("a broken zip opened")
	}
	if !errors.As(err, &be) || be.File != "bill.zip" {
		t.Fatalf("%v", err)
	}
	_, _, err = readBill("empty.csv", strings.NewReader(""))
	if !errors.As(err, &be) || !errors.Is(err, alipay.ErrBillTruncated) {
		t.Fatalf("empty file: %v", err)
	}
}

func TestOpenBillOnSandboxZips(t *testing.T) {
	// A bill written by the sandbox's streaming writer.
	day := at(t, "2026-11-22 00:00:00")
	var buf bytes.Buffer
	w := sandbox.NewAlipayBillZip(&buf, "20880001000000010156", day)
	rows := []sandbox.AlipayBillRow{
		{TradeNo: "2026112222001400000000000201", OutTradeNo: "PDKSBX0001", Subject: "洗衣, 加急😀", CreatedAt: at(t, "2026-11-22 08:00:00"), FinishedAt: at(t, "2026-11-22 08:00:05"), Buyer: "138****0001", Amount: 12345, Fee: sandbox.AlipayFee(12345)},
		{Refund: true, TradeNo: "2026112122001400000000000199", OutTradeNo: "PDKSBX0000", Subject: "前一天的订单", CreatedAt: at(t, "2026-11-21 22:00:00"), FinishedAt: at(t, "2026-11-22 09:00:00"), Buyer: "138****0000", Amount: 500, OutRequestNo: "RQSBX1", Fee: 3},
	}
	for _, r := range rows {
		if err := w.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	lines, br, err := readBill("sandbox.zip", &buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 2 {
		t.Fatalf("%d lines", len(lines))
	}
	if l := lines[0]; l.Amount != 12345 || l.Fee != 74 || l.Subject != "洗衣， 加急?" || l.OutTradeNo != "PDKSBX0001" {
		t.Errorf("payment %+v", l)
	}
	if l := lines[1]; l.Kind != gateway.LineRefund || l.Amount != 500 || l.Net != -500 || l.Fee != -3 || l.OutRequestNo != "RQSBX1" || l.TradeNo != "2026112122001400000000000199" {
		t.Errorf("refund %+v", l)
	}
	if s := br.Stated(); s.Payments != 1 || s.Refunds != 1 || s.Net != 11845 {
		t.Errorf("stated %+v", s)
	}
}

// TestSandboxBillsCutAtMidnight: the sandbox books payments by payment time
// and refunds by refund time in Shanghai, so a payment just after midnight
// is in the next day's bill, and the refund of an earlier order is in the
// bill of the day it was refunded.
func TestSandboxBillsCutAtMidnight(t *testing.T) {
	ctx := context.Background()
	clk := newClock(testkit.Time(t, "2026-11-25T09:00:00+08:00"))
	s, c := start(t, false, clk, nil)
	paid(t, s, "PDKBEFORE1", 1000, testkit.Time(t, "2026-11-22T23:59:59+08:00"))
	paid(t, s, "PDKAFTER01", 2000, testkit.Time(t, "2026-11-23T00:00:00+08:00"))
	if _, err := s.ConsoleRefund(sandbox.RefundSpec{Channel: gateway.Alipay, OutTradeNo: "PDKBEFORE1", OutRequestNo: "RQLATER", Amount: 1000, At: testkit.Time(t, "2026-11-24T10:00:00+08:00")}); err != nil {
		t.Fatal(err)
	}
	bill := func(day string) []gateway.BillLine {
		var buf bytes.Buffer
		bf, err := c.DownloadBill(ctx, testkit.Time(t, day+"T12:00:00+08:00"), &buf)
		if err != nil {
			t.Fatal(err)
		}
		lines, _, err := readBill(bf.Name, &buf)
		if err != nil {
			t.Fatal(err)
		}
		return lines
	}
	d22, d23, d24 := bill("2026-11-22"), bill("2026-11-23"), bill("2026-11-24")
	if len(d22) != 1 || d22[0].OutTradeNo != "PDKBEFORE1" || d22[0].Kind != gateway.LinePayment {
		t.Errorf("22nd: %+v", d22)
	}
	if len(d23) != 1 || d23[0].OutTradeNo != "PDKAFTER01" {
		t.Errorf("23rd: %+v", d23)
	}
	if len(d24) != 1 || d24[0].Kind != gateway.LineRefund || d24[0].OutRequestNo != "RQLATER" || d24[0].Amount != 1000 || d24[0].Fee != -6 {
		t.Errorf("24th: %+v", d24)
	}
}

var alipayOpenBill = alipay.OpenBill

// TestOpenHoldsTheBillToItsOptions: the merchant and the day a bill must be
// of, a row it must not repeat, and the caps on its size, each refused at
// the line that shows it.
func TestOpenHoldsTheBillToItsOptions(t *testing.T) {
	good := fixtureText(fixtureHeader, fixtureRows, fixtureTail(goodPayTotal, goodRefundTotal))
	repeated := fixtureText(fixtureHeader, append(append([]string{}, fixtureRows[:3]...), fixtureRows[2:]...), fixtureTail(goodPayTotal, goodRefundTotal))
	zipped, err := os.ReadFile(fixturePath("bill_20261122.zip"))
	if err != nil {
		t.Fatal(err)
	}
	day := at(t, "2026-11-22 15:00:00")
	cases := []struct {
		name string
		data []byte
		opt  gateway.BillOptions
		kind error
		line int
		text string
	}{
		{"pid", []byte(good), gateway.BillOptions{Merchant: "2088000100000001", Day: day}, nil, 0, ""},
		{"account", zipped, gateway.BillOptions{Account: "20880001000000010156", Day: day}, nil, 0, ""},
		{"other pid", []byte(good), gateway.BillOptions{Merchant: "2088000100000002"}, gateway.ErrBillMerchant, 2, "20880001000000010156 is not an account of PID 2088000100000002"},
		{"other account", zipped, gateway.BillOptions{Account: "20880001000000020156"}, gateway.ErrBillMerchant, 2, "recorded from its first bill"},
		{"other day", []byte(good), gateway.BillOptions{Day: day.AddDate(0, 0, 1)}, gateway.ErrBillDay, 3, "not the business day 2026-11-23"},
		{"repeated refund", []byte(repeated), gateway.BillOptions{}, gateway.ErrBillRepeated, 9, "request RQ20261122A is on line 8 already"},
		// A kept bill's rows are not checked for repeats again; its totals are.
		{"repeated refund, kept", []byte(repeated), gateway.BillOptions{Kept: true}, alipay.ErrBillTotals, 14, "bill states 2 refunds, the rows hold 3"},
		{"lines", []byte(good), gateway.BillOptions{Limits: gateway.BillLimits{MaxLines: 9}}, gateway.ErrBillTooLarge, 10, "more than 9 lines"},
		{"inflated csv", []byte(good), gateway.BillOptions{Limits: gateway.BillLimits{MaxInflated: 1500}}, gateway.ErrBillTooLarge, 0, "inflates past 1500 bytes"},
		{"inflated zip", zipped, gateway.BillOptions{Limits: gateway.BillLimits{MaxInflated: 1500}}, gateway.ErrBillTooLarge, 0, "more than 1500"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := readAllWith(c.name, c.data, c.opt)
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

func readAllWith(name string, data []byte, opt gateway.BillOptions) error {
	br, err := alipay.Open(name, bytes.NewReader(data), opt)
	if err != nil {
		return err
	}
	for {
		if _, err := br.Next(); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
	}
}
