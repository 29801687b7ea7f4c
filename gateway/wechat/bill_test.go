package wechat_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/gateway/wechat"
	"github.com/paydesk/paydesk/internal/testkit"
)

// readAll reads a bill to the end and returns its lines and the error that
// stopped it (nil when Next reached io.EOF).
func readAll(t *testing.T, name string, data []byte) (gateway.BillReader, []gateway.BillLine, error) {
	t.Helper()
	br, err := wechat.OpenBill(name, bytes.NewReader(data))
	if err != nil {
		return nil, nil, err
	}
	lines, err := testkit.ReadAll(br.Next)
	return br, lines, err
}

func testdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(testkit.Testdata("wechat", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func shanghai(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04:05", s, gateway.Shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

func TestOpenBillALLWithRefundsFromEarlierDays(t *testing.T) {
	data := testdata(t, "all_crlf_refunds.txt")
	for name, in := range map[string][]byte{"text": data, "gzip": gz(data)} {
		t.Run(name, func(t *testing.T) {
			br, lines, err := readAll(t, "all_crlf_refunds.txt", in)
			if err != nil {
				t.Fatal(err)
			}
			if len(lines) != 5 {
				t.Fatalf("%d lines", len(lines))
			}
			r := lines[0]
			want := gateway.BillLine{Line: 2, Kind: gateway.LineRefund, TradeNo: "4200000101202611192034567812", OutTradeNo: "PD20261119A7K2Q9",
				OutRequestNo: "RF-A7K2Q9-1", RefundID: "50300001012026112100000000011", Amount: 3000, Net: -3000, Fee: -18,
				Time: shanghai("2026-11-21 09:15:02"), State: "SUCCESS", RefundStatus: gateway.RefundSuccess, Subject: "测试商品"}
			if r != want {
				t.Fatalf("refund row\n got %+v\nwant %+v", r, want)
			}
			p := lines[1]
			if p.Kind != gateway.LinePayment || p.Amount != 12800 || p.Net != 12800 || p.Fee != 77 || p.Subject != "年费会员, 含发票" ||
				!p.Time.Equal(shanghai("2026-11-21 23:59:59")) || p.OutRequestNo != "" || p.RefundID != "" || p.State != "SUCCESS" {
				t.Fatalf("payment row: %+v", p)
			}
			if lines[2].Amount != 1 || lines[2].Fee != 0 || lines[4].Fee != 1199 || lines[3].Amount != 9999 || lines[3].Fee != -60 {
				t.Fatalf("rows: %+v", lines)
			}
			want2 := gateway.BillTotals{Payments: 3, PaymentAmount: 212701, Refunds: 2, RefundAmount: 12999, Fees: 1198, Net: 212701 - 12999}
			if br.Stated() != want2 || br.Computed() != want2 {
				t.Fatalf("totals: stated %+v computed %+v, want %+v", br.Stated(), br.Computed(), want2)
			}
		})
	}
}

func TestOpenBillLayouts(t *testing.T) {
	// Columns found by name: an extra column in the middle and one at the
	// end change nothing.
	_, ext, err := readAll(t, "all_extra_columns.txt", testdata(t, "all_extra_columns.txt"))
	if err != nil {
		t.Fatal(err)
	}
	_, base, _ := readAll(t, "all_crlf_refunds.txt", testdata(t, "all_crlf_refunds.txt"))
	if len(ext) != 3 {
		t.Fatalf("extra columns: %+v", ext)
	}
	for i := range ext {
		if ext[i] != base[i] {
			t.Fatalf("extra columns row %d\n got %+v\nwant %+v", i, ext[i], base[i])
		}
	}

	_, suc, err := readAll(t, "success_bill.txt", testdata(t, "success_bill.txt"))
	if err != nil || len(suc) != 3 || suc[2].Amount != 199900 || suc[2].Kind != gateway.LinePayment {
		t.Fatalf("SUCCESS bill: %+v, %v", suc, err)
	}

	// REFUND bill: every row a refund, dated like the ALL bill's refund
	// rows by 交易时间, which is 退款申请时间 (when the refund was asked for),
	// not 退款成功时间.
	br, ref, err := readAll(t, "refund_bill.txt", testdata(t, "refund_bill.txt"))
	if err != nil || len(ref) != 2 {
		t.Fatalf("REFUND bill: %+v, %v", ref, err)
	}
	if ref[0].Kind != gateway.LineRefund || ref[0].Amount != 3000 || !ref[0].Time.Equal(shanghai("2026-11-20 18:00:00")) {
		t.Fatalf("REFUND row: %+v", ref[0])
	}
	if s := br.Stated(); s.Refunds != 2 || s.Payments != 0 || s.RefundAmount != 12999 || s.Net != -12999 {
		t.Fatalf("REFUND stated: %+v", s)
	}
}

func TestOpenBillErrorsNameFileAndLine(t *testing.T) {
	cases := []struct {
		file string
		line int
		want string
	}{
		{"totals_disagree.txt", 8, "应结订单总金额 states 2127.02, the rows add up to 2127.01"},
		{"no_summary.txt", 6, "truncated"},
		{"truncated_mid_row.txt", 5, "values where the header has 27 columns"},
		{"gbk_encoded.txt", 1, "not UTF-8"},
		{"sub_fen_fee.txt", 6, `手续费: amount "11.99400" has non-zero digits past the fen`},
		{"unknown_layout.txt", 1, "unknown bill layout: header has no 商户订单号"},
	}
	for _, c := range cases {
		_, _, err := readAll(t, c.file, testdata(t, c.file))
		var be *gateway.BillError
		if !errors.As(err, &be) || be.File != c.file || be.Line != c.line || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want line %d and %q", c.file, err, c.line, c.want)
		}
	}
	// Damaged gzip, empty input, and the sticky error after a failure.
	data := gz(testdata(t, "all_crlf_refunds.txt"))
	for name, in := range map[string][]byte{"cut gzip": data[:len(data)-30], "empty": nil, "bad gzip": {0x1f, 0x8b, 0, 0}} {
		_, _, err := readAll(t, name, in)
		var be *gateway.BillError
		if !errors.As(err, &be) || be.File != name {
			t.Errorf("%s: %v", name, err)
		}
	}
	br, _ := wechat.OpenBill("x", bytes.NewReader(testdata(t, "totals_disagree.txt")))
	var first error
	for first == nil {
		_, first = br.Next()
	}
	if _, again := br.Next(); again != first || first == io.EOF {
		t.Fatalf("after a failure Next said %v, then %v", first, again)
	}
}

// Every real bill published by merchants and SDK authors: the complete ones
// parse and balance; the fund-flow bill is refused as not a trade bill; the
// excerpts (W4 shows 2 of 29 rows, W5a/b/c 1 of 48/31/4) parse row by row
// and then fail the totals check, naming the summary line. An excerpt must
// not pass for a whole bill: reconciling it would report every missing row
// as missing on the platform.
func TestOpenBillRealSamples(t *testing.T) {
	dir := testkit.SharedSamples(t, "wechat", "bill")
	cases := map[string]struct {
		rows, line int
		err        string
	}{
		"W2_v3_tradebill_ALL_20210128_mch1601959334.txt":            {rows: 3},
		"W2_v3_tradebill_ALL_20210128_mch1601959334.txt.gz":         {rows: 3},
		"W3_v3_fundflowbill_20210201_mch1601959334.txt":             {line: 1, err: "not a trade bill"},
		"W3_v3_fundflowbill_20210201_mch1601959334.txt.gz":          {line: 1, err: "not a trade bill"},
		"W4_v2_downloadbill_ALL_20240709_mch1579507281_EXCERPT.txt": {rows: 2, line: 5, err: "总交易单数 states 29 rows, the file has 2"},
		"W5a_ALL_redacted_2019.txt":                                 {rows: 1, line: 4, err: "总交易单数 states 48 rows, the file has 1"},
		"W5b_SUCCESS_redacted_2019.txt":                             {rows: 1, line: 4, err: "总交易单数 states 31 rows, the file has 1"},
		"W5c_REFUND_redacted_2019.txt":                              {rows: 1, line: 4, err: "总交易单数 states 4 rows, the file has 1"},
		"W5d_ALL_legacy_2014_docsample.txt":                         {rows: 2},
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	seen := 0
	for _, f := range files {
		name := filepath.Base(f)
		want, ok := cases[name]
		if !ok {
			t.Errorf("sample %s has no expectation here", name)
			continue
		}
		seen++
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		_, lines, err := readAll(t, name, data)
		var be *gateway.BillError
		switch {
		case want.err == "" && err != nil:
			t.Errorf("%s: %v", name, err)
		case want.err != "" && (!errors.As(err, &be) || be.Line != want.line || !strings.Contains(err.Error(), want.err)):
			t.Errorf("%s: %v; want line %d: %s", name, err, want.line, want.err)
		case len(lines) != want.rows:
			t.Errorf("%s: %d rows, want %d", name, len(lines), want.rows)
		}
	}
	if seen != len(cases) {
		t.Errorf("found %d of the %d samples", seen, len(cases))
	}

	// Facts of single rows: W4's cross-day refund with its negative fee, the
	// 2014 layout's full-width colons, W5c's refund dated by 交易时间 (its
	// 退款申请时间; 退款成功时间 is four seconds later).
	read := func(name string) []gateway.BillLine {
		data, _ := os.ReadFile(filepath.Join(dir, name))
		_, lines, _ := readAll(t, name, data)
		return lines
	}
	w4 := read("W4_v2_downloadbill_ALL_20240709_mch1579507281_EXCERPT.txt")
	if r := w4[0]; r.Kind != gateway.LineRefund || r.Amount != 5000 || r.Net != -5000 || r.Fee != -27 || r.OutTradeNo != "5617363390111199232" ||
		r.OutRequestNo != "5622435300878286848" || r.RefundID != "50302709992024070991956632208" || !r.Time.Equal(shanghai("2024-07-09 16:47:58")) {
		t.Errorf("W4 refund: %+v", r)
	}
	if p := w4[1]; p.Kind != gateway.LinePayment || p.Amount != 6000 || p.Fee != 32 {
		t.Errorf("W4 payment: %+v", p)
	}
	if w5d := read("W5d_ALL_legacy_2014_docsample.txt"); w5d[0].Amount != 1 || !w5d[0].Time.Equal(shanghai("2014-11-10 16:33:45")) {
		t.Errorf("W5d: %+v", w5d[0])
	}
	if w5c := read("W5c_REFUND_redacted_2019.txt"); !w5c[0].Time.Equal(shanghai("2019-07-23 20:53:36")) || w5c[0].Amount != 1 {
		t.Errorf("W5c: %+v", w5c[0])
	}
}

// Bills the sandbox writes read back row for row, in every layout.
func TestOpenBillReadsSandboxBills(t *testing.T) {
	k := testkit.SandboxKeys(t)
	s, err := sandbox.New(sandbox.Config{Keys: k, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	day := shanghai("2026-11-20 00:00:00")
	for i, out := range []string{"SB-1", "SB-2", "SB-3"} {
		if _, err := s.CreateTrade(sandbox.TradeSpec{Channel: gateway.WeChat, OutTradeNo: out, Amount: gateway.Money(1000 * (i + 1)), Subject: "商品`一\n号"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Pay(gateway.WeChat, out, day.Add(time.Duration(i)*8*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	// SB-1's refund on the same day, SB-2's the next day.
	for _, r := range []sandbox.RefundSpec{
		{Channel: gateway.WeChat, OutTradeNo: "SB-1", OutRequestNo: "SB-1-R", Amount: 250, At: day.Add(20 * time.Hour)},
		{Channel: gateway.WeChat, OutTradeNo: "SB-2", OutRequestNo: "SB-2-R", Amount: 2000, At: day.Add(30 * time.Hour)},
	} {
		if _, err := s.ConsoleRefund(r); err != nil {
			t.Fatal(err)
		}
	}
	counts := map[string][2]int{"ALL": {3, 1}, "SUCCESS": {3, 0}, "REFUND": {0, 1}}
	for kind, want := range counts {
		var buf bytes.Buffer
		if _, err := s.WriteWeChatBill(&buf, day, kind); err != nil {
			t.Fatal(err)
		}
		br, lines, err := readAll(t, kind, buf.Bytes())
		if err != nil {
			t.Fatalf("%s: %v\n%s", kind, err, buf.String())
		}
		if c := br.Computed(); c.Payments != want[0] || c.Refunds != want[1] || br.Stated() != c {
			t.Fatalf("%s: computed %+v stated %+v", kind, c, br.Stated())
		}
		for _, l := range lines {
			if l.Subject != "商品 一 号" {
				t.Fatalf("%s: subject %q", kind, l.Subject)
			}
		}
	}
	var next bytes.Buffer
	if _, err := s.WriteWeChatBill(&next, day.AddDate(0, 0, 1), "ALL"); err != nil {
		t.Fatal(err)
	}
	_, lines, err := readAll(t, "next day", next.Bytes())
	if err != nil || len(lines) != 1 || lines[0].OutRequestNo != "SB-2-R" || lines[0].Amount != 2000 || lines[0].Fee != -12 {
		t.Fatalf("next day: %+v, %v", lines, err)
	}
}

// TestSandboxDatesRefundRowsAtRequest: the sandbox cuts a day's bill as
// WeChat Pay does. A refund row is on the bill of the day the refund was
// asked for, with the 退款状态 it had when the bill was made (09:00 the next
// morning), never updated: a refund still pending then is PROCESSING for
// good, in the ALL and the REFUND bill alike, and the bill of the day it
// succeeded does not list it again.
func TestSandboxDatesRefundRowsAtRequest(t *testing.T) {
	s, err := sandbox.New(sandbox.Config{Keys: testkit.SandboxKeys(t), Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	day := shanghai("2026-11-20 00:00:00")
	for _, out := range []string{"RQ-SLOW", "RQ-QUICK"} {
		if _, err := s.CreateTrade(sandbox.TradeSpec{Channel: gateway.WeChat, OutTradeNo: out, Amount: 5000, Subject: "退款"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Pay(gateway.WeChat, out, day.Add(10*time.Hour)); err != nil {
			t.Fatal(err)
		}
		s.SetFault(gateway.WeChat, out, sandbox.Fault{RefundPending: true})
		if _, err := s.ConsoleRefund(sandbox.RefundSpec{Channel: gateway.WeChat, OutTradeNo: out, OutRequestNo: out + "-R", Amount: 1200, At: day.Add(23*time.Hour + 50*time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	// One settles before the bill is made, the other after.
	if err := s.SettleRefund(gateway.WeChat, "RQ-QUICK", "RQ-QUICK-R", true, day.Add(32*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.SettleRefund(gateway.WeChat, "RQ-SLOW", "RQ-SLOW-R", true, day.Add(34*time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"ALL", "REFUND"} {
		var buf bytes.Buffer
		if _, err := s.WriteWeChatBill(&buf, day, kind); err != nil {
			t.Fatal(err)
		}
		_, lines, err := readAll(t, kind, buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]gateway.BillLine{}
		for _, l := range lines {
			if l.Kind == gateway.LineRefund {
				got[l.OutRequestNo] = l
			}
		}
		asked := day.Add(23*time.Hour + 50*time.Minute)
		if l := got["RQ-QUICK-R"]; l.RefundStatus != gateway.RefundSuccess || l.State != "SUCCESS" || !l.Time.Equal(asked) || l.Amount != 1200 {
			t.Errorf("%s: refund settled before the cut: %+v", kind, l)
		}
		if l := got["RQ-SLOW-R"]; l.RefundStatus != gateway.RefundPending || l.State != "PROCESSING" || !l.Time.Equal(asked) || l.Amount != 1200 {
			t.Errorf("%s: refund settled after the cut: %+v", kind, l)
		}
	}
	var next bytes.Buffer
	if _, err := s.WriteWeChatBill(&next, day.AddDate(0, 0, 1), "ALL"); err == nil && bytes.Contains(next.Bytes(), []byte("RQ-SLOW-R")) {
		t.Errorf("the day the refund succeeded lists it again:\n%s", next.String())
	}
}

// TestOpenHoldsTheBillToItsOptions: rows of another merchant (特约商户号
// where set, else 商户号) or another day, a repeated row, and the caps, each
// refused at the line that shows it; a BOM before the header is skipped.
func TestOpenHoldsTheBillToItsOptions(t *testing.T) {
	good := testdata(t, "all_crlf_refunds.txt")
	lines := bytes.Split(good, []byte("\r\n"))
	repeated := bytes.Join(append(append(append([][]byte{}, lines[:4]...), lines[3]), lines[4:]...), []byte("\r\n"))
	subMerchant := bytes.Replace(good, []byte("`1900000109,`0,"), []byte("`1900000555,`1900000109,"), -1)
	mixed := bytes.Replace(good, []byte("`1900000109,`0,"), []byte("`1900000109,`1900000777,"), 1)
	day := shanghai("2026-11-21 12:00:00")
	cases := []struct {
		name string
		data []byte
		opt  gateway.BillOptions
		kind error
		line int
		text string
	}{
		{"mchid and day", good, gateway.BillOptions{Merchant: "1900000109", Day: day}, nil, 0, ""},
		{"BOM", append([]byte("\ufeff"), good...), gateway.BillOptions{Merchant: "1900000109", Day: day}, nil, 0, ""},
		{"gzip", gz(good), gateway.BillOptions{Account: "1900000109", Day: day}, nil, 0, ""},
		{"a sub-merchant's bill", subMerchant, gateway.BillOptions{Merchant: "1900000109"}, nil, 0, ""},
		{"other mchid", good, gateway.BillOptions{Merchant: "1900000110"}, gateway.ErrBillMerchant, 2, "merchant 1900000109, not 1900000110"},
		{"another sub-merchant", mixed, gateway.BillOptions{Merchant: "1900000109"}, gateway.ErrBillMerchant, 2, "merchant 1900000777"},
		{"rows of two merchants", bytes.Replace(good, []byte("`1900000109,`0,`,`4200000103"), []byte("`1900000109,`1900000444,`,`4200000103"), 1),
			gateway.BillOptions{}, gateway.ErrBillMerchant, 4, "the rows before it (from line 2) of 1900000109"},
		{"other day", good, gateway.BillOptions{Day: day.AddDate(0, 0, 1)}, gateway.ErrBillDay, 2, "when the refund was asked for"},
		{"repeated row", repeated, gateway.BillOptions{}, gateway.ErrBillRepeated, 5, "is on line 4 already"},
		{"lines", good, gateway.BillOptions{Limits: gateway.BillLimits{MaxLines: 4}}, gateway.ErrBillTooLarge, 5, "more than 4 lines"},
		// wechatpay-axios-plugin's fixture bill (tests/fixtures/bill.ALL.csv)
		// states its row count as `45.0.
		{"count with a zero fraction", bytes.Replace(good, []byte("\r\n`5,`2127.01,"), []byte("\r\n`5.0,`2127.01,"), 1), gateway.BillOptions{}, nil, 0, ""},
		{"inflated gzip", gz(good), gateway.BillOptions{Limits: gateway.BillLimits{MaxInflated: 1000}}, gateway.ErrBillTooLarge, 0, "inflates past 1000 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			br, err := wechat.Open(c.name, bytes.NewReader(c.data), c.opt)
			for err == nil {
				_, err = br.Next()
			}
			if c.kind == nil {
				if err != io.EOF {
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
