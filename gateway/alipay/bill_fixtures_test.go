package alipay_test

import (
	"archive/zip"
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/internal/testkit"
)

// The files under testdata/alipay are hand-made bills: written once from the
// text below by `go test ./gateway/alipay -run TestBillFixtures -update`
// and committed. The text follows the layout of real Alipay trade bills
// (preamble, 25-column header, rows with trailing TABs, end marker, totals);
// it is not produced by the sandbox's writer, so the two check each other.
var update = flag.Bool("update", false, "rewrite the bill fixtures in testdata/alipay")

const fixtureHeader = "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注"

// Lines 1-4 preamble, 5 header, 6-10 rows, 11 end marker, 12-13 totals.
var fixtureRows = []string{
	"2026112222001400000000000101\t,PDK9F2A7C1\t,交易\t,洗衣订单-衬衫2件,2026-11-22 09:58:12,2026-11-22 09:58:20,\t,\t,\t,\t,138****2600\t,35.80,35.80,0.00,0.00,0.00,0.00,0.00,,0.00\t,0.00,\t,-0.21,0.00,",
	"2026112222001400000000000102\t,PDKB81X3Z2\t,交易\t,干洗 大衣,2026-11-22 13:01:00,2026-11-22 13:01:05,\t,\t,\t,\t,138****1234\t,88.80,88.80,0.00,0.00,0.00,0.00,0.00,,0.00\t,0.00,\t,-0.53,0.00,",
	"2026112222001400000000000102\t,PDKB81X3Z2\t,退款\t,干洗 大衣,2026-11-22 13:01:00,2026-11-22 18:30:41,\t,\t,\t,\t,138****1234\t,-30.00,-30.00,0.00,0.00,0.00,0.00,0.00,,0.00\t,0.00,RQ20261122A\t,0.18,0.00,客户取消",
	"2026112022001400000000000077\t,PDKOLD0077\t,退款\t,洗鞋,2026-11-20 11:00:00,2026-11-22 20:15:00,\t,\t,\t,\t,138****7777\t,-28.80,-28.80,0.00,0.00,0.00,0.00,0.00,,0.00\t,0.00,RQ20261122B\t,0.17,0.00,",
	"2026112222001400000000000103\t,PDKLATE003\t,交易\t,熨烫,2026-11-22 23:59:40,2026-11-22 23:59:59,\t,\t,\t,\t,138****0003\t,6.70,6.70,0.00,0.00,0.00,0.00,0.00,,0.00\t,0.00,\t,-0.04,0.00,",
}

func fixturePreamble() []string {
	return []string{
		"#支付宝业务明细查询",
		"#账号：[20880001000000010156]",
		"#起始日期：[2026年11月22日 00:00:00]   终止日期：[2026年11月23日 00:00:00]",
		"#-----------------------------------------业务明细列表----------------------------------------",
	}
}

func fixtureTail(payTotal, refundTotal string) []string {
	return []string{
		"#-----------------------------------------业务明细列表结束------------------------------------",
		payTotal,
		refundTotal,
		"#导出时间：[2026年11月23日 09:12:45]",
	}
}

const (
	goodPayTotal    = "#交易合计：3笔，商家实收共131.30元，商家优惠共0.00元"
	goodRefundTotal = "#退款合计：2笔，商家实收退款共-58.80元，商家优惠退款共0.00元"
)

func fixtureText(header string, rows []string, tail []string) string {
	lines := append(fixturePreamble(), header)
	lines = append(lines, rows...)
	lines = append(lines, tail...)
	return strings.Join(lines, "\n") + "\n"
}

func toGBK(s string) []byte {
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		panic(err)
	}
	return b
}

func fixtureZip(entries map[string]string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range []string{"20880001000000010156_20261122_业务明细.csv", "20880001000000010156_20261122_业务明细(汇总).csv"} {
		text, ok := entries[name]
		if !ok {
			continue
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: string(toGBK(name)), NonUTF8: true, Method: zip.Deflate})
		if err != nil {
			panic(err)
		}
		w.Write(toGBK(text))
	}
	zw.Close()
	return buf.Bytes()
}

// fixtures are the bytes of each file under testdata/alipay.
func fixtures() map[string][]byte {
	good := fixtureText(fixtureHeader, fixtureRows, fixtureTail(goodPayTotal, goodRefundTotal))
	summary := strings.Join([]string{
		"#支付宝业务汇总查询",
		"#账号：[20880001000000010156]",
		"#起始日期：[2026年11月22日 00:00:00]   终止日期：[2026年11月23日 00:00:00]",
		"#-----------------------------------------业务汇总列表----------------------------------------",
		"门店编号,门店名称,交易订单总笔数,退款订单总笔数,订单金额（元）,商家实收（元）,支付宝优惠（元）,商家优惠（元）,卡消费金额（元）,服务费（元）,分润（元）,实收净额（元）",
		"合计,,3,2,72.50,72.50,0.00,0.00,0.00,-0.43,0.00,72.07",
		"#----------------------------------------业务汇总列表结束-------------------------------------",
		"#导出时间：[2026年11月23日 09:12:45]",
	}, "\n") + "\n"
	fullZip := fixtureZip(map[string]string{
		"20880001000000010156_20261122_业务明细.csv":     good,
		"20880001000000010156_20261122_业务明细(汇总).csv": summary,
	})
	// Three more columns at the end (as newer bills have), so 备注 is no
	// longer last; the rows carry them too.
	// 实收净额 is 商家实收 + 服务费 (the fee printed negative when charged),
	// which is what tells the parser the fee's sign.
	extraHeader := fixtureHeader + ",实收净额（元）,商户识别号,交易方式"
	var extraRows, positiveRows, wrongNetRows, positiveFeeRows []string
	for _, r := range fixtureRows {
		net, fee := rowMoney(r, 12), rowMoney(r, 22)
		extraRows = append(extraRows, r+","+(net+fee).String()+",\t,支付宝支付")
		// The same rows from a file that prints a charged fee positive:
		// 实收净额 = 商家实收 − 服务费 says so.
		flipped := withField(r, 22, (-fee).String())
		positiveFeeRows = append(positiveFeeRows, flipped)
		positiveRows = append(positiveRows, flipped+","+(net+fee).String()+",\t,支付宝支付")
		wrongNetRows = append(wrongNetRows, r+","+net.String()+",\t,支付宝支付")
	}
	// A zip whose files print a charged fee positive: the summary's
	// 实收净额 = 商家实收 − 服务费 tells it.
	positiveZip := fixtureZip(map[string]string{
		"20880001000000010156_20261122_业务明细.csv":     fixtureText(fixtureHeader, positiveFeeRows, fixtureTail(goodPayTotal, goodRefundTotal)),
		"20880001000000010156_20261122_业务明细(汇总).csv": strings.Replace(summary, ",-0.43,0.00,72.07", ",0.43,0.00,72.07", 1),
	})
	// A summary that counts one payment more than the detail file holds.
	disagreeZip := fixtureZip(map[string]string{
		"20880001000000010156_20261122_业务明细.csv":     good,
		"20880001000000010156_20261122_业务明细(汇总).csv": strings.Replace(summary, "合计,,3,2,", "合计,,4,2,", 1),
	})

	// Columns in another order, found by name all the same.
	reordered := func(line string) string {
		f := strings.Split(line, ",")
		f[0], f[1] = f[1], f[0]
		f[11], f[12] = f[12], f[11]
		return strings.Join(f, ",")
	}
	var reRows []string
	for _, r := range fixtureRows {
		reRows = append(reRows, reordered(r))
	}

	rowsTo := func(n int) []string { return fixtureRows[:n] }
	badAmount := append([]string{}, fixtureRows...)
	badAmount[0] = strings.Replace(badAmount[0], ",35.80,35.80,", ",35.805,35.80,", 1)
	unknownType := append([]string{}, fixtureRows...)
	unknownType[1] = strings.Replace(unknownType[1], ",交易\t,", ",冻结\t,", 1)
	mixed := []byte(fixtureText(fixtureHeader, fixtureRows[:1], nil)) // UTF-8 so far
	mixed = append(mixed, toGBK(fixtureRows[1]+"\n")...)              // then a GBK row
	mixed = append(mixed, strings.Join(append(fixtureRows[2:], fixtureTail(goodPayTotal, goodRefundTotal)...), "\n")+"\n"...)
	var utf16le []byte
	for _, u := range utf16.Encode([]rune("\ufeff" + good)) {
		utf16le = append(utf16le, byte(u), byte(u>>8))
	}

	return map[string][]byte{
		"bill_20261122.zip":         fullZip,
		"detail_gbk.csv":            toGBK(good),
		"detail_utf8_crlf.csv":      []byte("\ufeff" + strings.ReplaceAll(good, "\n", "\r\n")),
		"extra_columns.csv":         toGBK(fixtureText(extraHeader, extraRows, fixtureTail(goodPayTotal, goodRefundTotal))),
		"fee_positive.csv":          toGBK(fixtureText(extraHeader, positiveRows, fixtureTail(goodPayTotal, goodRefundTotal))),
		"fee_positive.zip":          positiveZip,
		"net_disagrees.csv":         toGBK(fixtureText(extraHeader, wrongNetRows, fixtureTail(goodPayTotal, goodRefundTotal))),
		"summary_disagrees.zip":     disagreeZip,
		"reordered_columns.csv":     toGBK(fixtureText(reordered(fixtureHeader), reRows, fixtureTail(goodPayTotal, goodRefundTotal))),
		"old_totals.csv":            toGBK(fixtureText(fixtureHeader, fixtureRows, fixtureTail("#交易合计：3笔，交易金额共131.30元，优惠金额共0.00元", "#退款合计：2笔，交易退款金额共-58.80元，优惠退款金额共0.00元"))),
		"truncated.csv":             toGBK(fixtureText(fixtureHeader, rowsTo(3), nil)),
		"truncated_mid_row.csv":     toGBK(fixtureText(fixtureHeader, rowsTo(3), nil) + fixtureRows[3][:70]),
		"no_totals.csv":             toGBK(fixtureText(fixtureHeader, fixtureRows, fixtureTail(goodPayTotal, goodRefundTotal)[:1])),
		"truncated.zip":             fullZip[:len(fullZip)/2],
		"summary_only.zip":          fixtureZip(map[string]string{"20880001000000010156_20261122_业务明细(汇总).csv": summary}),
		"utf16.csv":                 utf16le,
		"mixed_encoding.csv":        mixed,
		"totals_disagree.csv":       toGBK(fixtureText(fixtureHeader, fixtureRows, fixtureTail("#交易合计：3笔，商家实收共131.31元，商家优惠共0.00元", goodRefundTotal))),
		"count_disagree.csv":        toGBK(fixtureText(fixtureHeader, fixtureRows, fixtureTail(goodPayTotal, "#退款合计：1笔，商家实收退款共-58.80元，商家优惠退款共0.00元"))),
		"bad_amount.csv":            toGBK(fixtureText(fixtureHeader, badAmount, fixtureTail(goodPayTotal, goodRefundTotal))),
		"unknown_business_type.csv": toGBK(fixtureText(fixtureHeader, unknownType, fixtureTail(goodPayTotal, goodRefundTotal))),
		"missing_column.csv":        toGBK(fixtureText(strings.Replace(fixtureHeader, "服务费（元）", "手续费（元）", 1), fixtureRows, fixtureTail(goodPayTotal, goodRefundTotal))),
	}
}

// rowMoney reads field i of a fixture row as money.
func rowMoney(row string, i int) gateway.Money {
	m, err := gateway.ParseMoney(strings.Trim(strings.Split(row, ",")[i], "\t"))
	if err != nil {
		panic(err)
	}
	return m
}

// withField replaces field i of a fixture row.
func withField(row string, i int, v string) string {
	f := strings.Split(row, ",")
	f[i] = v
	return strings.Join(f, ",")
}

func fixturePath(name string) string { return testkit.Testdata("alipay", name) }

// TestBillFixturesAreCurrent writes the fixtures with -update and otherwise
// checks the committed files are the ones the text above describes.
func TestBillFixturesAreCurrent(t *testing.T) {
	for name, data := range fixtures() {
		p := fixturePath(name)
		if *update {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("%v (run with -update to write the fixtures)", err)
		}
		if strings.HasSuffix(name, ".zip") {
			continue // zip bytes carry timestamps; their content is tested by parsing
		}
		if !bytes.Equal(got, data) {
			t.Errorf("%s differs from its description here; run with -update", name)
		}
	}
}
