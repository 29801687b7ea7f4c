package sandbox

import (
	"archive/zip"
	"bufio"
	"cmp"
	"compress/flate"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/paydesk/paydesk/gateway"
)

// The layout of Alipay's daily trade bill (账单类型 trade), as merchants
// download it: a zip whose entry names and contents are GBK, holding a
// detail file and a summary file.
const (
	alipayDetailTitle  = "#支付宝业务明细查询"
	alipaySummaryTitle = "#支付宝业务汇总查询"
	alipayDetailBegin  = "#-----------------------------------------业务明细列表----------------------------------------"
	alipayDetailEnd    = "#-----------------------------------------业务明细列表结束------------------------------------"
	alipaySummaryBegin = "#-----------------------------------------业务汇总列表----------------------------------------"
	alipaySummaryEnd   = "#----------------------------------------业务汇总列表结束-------------------------------------"
	// AlipayBillHeader is the 25-column header of the detail file.
	AlipayBillHeader = "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户," +
		"订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称," +
		"商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注"
	alipaySummaryHeader = "门店编号,门店名称,交易订单总笔数,退款订单总笔数,订单金额（元）,商家实收（元）,支付宝优惠（元）," +
		"商家优惠（元）,卡消费金额（元）,服务费（元）,分润（元）,实收净额（元）"
)

// AlipayBillEntryNames returns the names (UTF-8) of the detail and summary
// files of a bill: <account>_<yyyymmdd>_业务明细.csv and
// <account>_<yyyymmdd>_业务明细(汇总).csv.
func AlipayBillEntryNames(account string, day time.Time) (detail, summary string) {
	d := day.Format("20060102")
	return account + "_" + d + "_业务明细.csv", account + "_" + d + "_业务明细(汇总).csv"
}

// AlipayBillRow is one row of the detail file. Amounts are positive; the
// writer prints refunds negative, as Alipay does.
type AlipayBillRow struct {
	Refund     bool
	TradeNo    string
	OutTradeNo string
	Subject    string
	CreatedAt  time.Time
	FinishedAt time.Time // paid at, or refunded at
	Buyer      string    // 对方账户, already masked
	Amount     gateway.Money
	// OutRequestNo is the refund's request number (退款批次号/请求号).
	OutRequestNo string
	// Fee is the service fee charged on a payment or returned on a refund.
	// Alipay prints a charged fee as a negative 服务费 (it is deducted from
	// the merchant) and a returned one as positive.
	Fee    gateway.Money
	Remark string
}

// AlipayBillWriter streams a trade bill row by row, so a bill of a million
// rows never has to be held in memory. Close writes the end marker, the
// stated totals, and (for a zip) the summary file.
type AlipayBillWriter struct {
	zw      *zip.Writer // nil when writing the detail CSV alone
	out     *bufio.Writer
	account string
	start   time.Time
	end     time.Time
	zone    *time.Location

	exportedAt time.Time
	buf        []byte

	payments, refunds      int
	paymentNet, refundNet  gateway.Money // Σ 商家实收 per kind (refunds negative)
	paymentAmt, refundAmt  gateway.Money // Σ 订单金额 per kind (refunds negative)
	fees                   gateway.Money // Σ 服务费 as printed
	err                    error
	detailName, summaryGBK string
	closed                 bool
}

// NewAlipayBillZip starts a bill zip for account (the 20-digit account,
// PID + "0156") and the business date of day in day's own location.
func NewAlipayBillZip(w io.Writer, account string, day time.Time) *AlipayBillWriter {
	b := newAlipayBillWriter(account, day)
	b.zw = zip.NewWriter(w)
	// Fast deflate: still plain deflate that every unzip reads, and it keeps
	// making a million-row bill for a benchmark to a few seconds.
	b.zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestSpeed)
	})
	detail, summary := AlipayBillEntryNames(account, b.start)
	b.summaryGBK = alipayGBK(summary)
	entry, err := b.zw.CreateHeader(&zip.FileHeader{
		Name:     alipayGBK(detail),
		NonUTF8:  true, // the names are GBK bytes, and the zip must not claim UTF-8
		Method:   zip.Deflate,
		Modified: b.start,
	})
	b.err = err
	b.out = bufio.NewWriterSize(orDiscard(entry), 64<<10)
	b.detailName = detail
	b.writePreamble(alipayDetailTitle, alipayDetailBegin, AlipayBillHeader)
	return b
}

// NewAlipayBillCSV writes the GBK detail file alone, as a merchant has it
// after unzipping.
func NewAlipayBillCSV(w io.Writer, account string, day time.Time) *AlipayBillWriter {
	b := newAlipayBillWriter(account, day)
	b.out = bufio.NewWriterSize(w, 64<<10)
	b.writePreamble(alipayDetailTitle, alipayDetailBegin, AlipayBillHeader)
	return b
}

func newAlipayBillWriter(account string, day time.Time) *AlipayBillWriter {
	start, end := gateway.Day(day, day.Location())
	return &AlipayBillWriter{account: account, start: start, end: end, zone: day.Location(), exportedAt: end.Add(9 * time.Hour)}
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// SetExportedAt sets the time printed in the #导出时间 line (default 09:00
// the morning after the business date).
func (b *AlipayBillWriter) SetExportedAt(t time.Time) { b.exportedAt = t }

func (b *AlipayBillWriter) writePreamble(title, begin, header string) {
	b.line(title)
	b.line("#账号：[" + b.account + "]")
	b.line("#起始日期：[" + alipayCNTime(b.start) + "]   终止日期：[" + alipayCNTime(b.end) + "]")
	b.line(begin)
	b.line(header)
}

// alipayCNTime formats as the bills' preamble does: 2019年09月16日 00:00:00.
func alipayCNTime(t time.Time) string { return t.Format("2006年01月02日 15:04:05") }

// line writes one UTF-8 line as GBK.
func (b *AlipayBillWriter) line(s string) {
	if b.err != nil {
		return
	}
	_, b.err = b.out.WriteString(alipayGBK(s))
	if b.err == nil {
		b.err = b.out.WriteByte('\n')
	}
}

var (
	alipayGBKPayment = alipayGBK("交易")
	alipayGBKRefund  = alipayGBK("退款")
)

// Add writes one row. Fields end with the literal TAB Alipay puts after
// the columns spreadsheet programs would otherwise turn into numbers.
func (b *AlipayBillWriter) Add(r AlipayBillRow) error {
	if b.err != nil {
		return b.err
	}
	if b.closed {
		return errors.New("sandbox: bill row added after Close")
	}
	if r.Amount < 0 || r.Fee < 0 {
		return fmt.Errorf("sandbox: bill row %s: amounts are positive, the writer signs them", r.TradeNo)
	}
	amount, fee, kind := r.Amount, -r.Fee, alipayGBKPayment
	if r.Refund {
		amount, fee, kind = -r.Amount, r.Fee, alipayGBKRefund
		b.refunds++
		b.refundNet += amount
		b.refundAmt += amount
	} else {
		b.payments++
		b.paymentNet += amount
		b.paymentAmt += amount
	}
	b.fees += fee
	p := b.buf[:0]
	p = append(p, alipayCell(r.TradeNo)...)
	p = append(p, "\t,"...)
	p = append(p, alipayCell(r.OutTradeNo)...)
	p = append(p, "\t,"...)
	p = append(p, kind...)
	p = append(p, "\t,"...)
	p = append(p, alipayGBK(alipayCell(r.Subject))...)
	p = append(p, ',')
	p = append(p, b.timeCell(r.CreatedAt)...)
	p = append(p, ',')
	p = append(p, b.timeCell(r.FinishedAt)...)
	p = append(p, ",\t,\t,\t,\t,"...) // 门店编号, 门店名称, 操作员, 终端号
	p = append(p, alipayGBK(alipayCell(r.Buyer))...)
	p = append(p, "\t,"...)
	p = append(p, amount.String()...) // 订单金额
	p = append(p, ',')
	p = append(p, amount.String()...) // 商家实收: no discounts in the sandbox
	p = append(p, ",0.00,0.00,0.00,0.00,0.00,,0.00\t,0.00,"...)
	if r.Refund {
		p = append(p, alipayCell(r.OutRequestNo)...)
	}
	p = append(p, "\t,"...)
	p = append(p, fee.String()...)
	p = append(p, ",0.00,"...)
	p = append(p, alipayGBK(alipayCell(r.Remark))...)
	p = append(p, '\n')
	b.buf = p
	_, b.err = b.out.Write(p)
	return b.err
}

func (b *AlipayBillWriter) timeCell(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(b.zone).Format(time.DateTime)
}

// alipayCell keeps free text from breaking the unquoted CSV: commas become
// full-width commas and line breaks and TABs spaces, which is what a
// merchant sees in real bills.
func alipayCell(s string) string {
	if !strings.ContainsAny(s, ",\r\n\t") {
		return s
	}
	return strings.NewReplacer(",", "，", "\r", " ", "\n", " ", "\t", " ").Replace(s)
}

// alipayGBK encodes UTF-8 text as GBK; a character GBK lacks (an emoji, say)
// becomes '?', as it would in a GBK bill.
func alipayGBK(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	enc := simplifiedchinese.GBK.NewEncoder()
	if out, err := enc.String(s); err == nil {
		return out
	}
	var b strings.Builder
	for _, r := range s {
		out, err := enc.String(string(r))
		if err != nil {
			out = "?"
		}
		b.WriteString(out)
	}
	return b.String()
}

// Close writes the end marker and the stated totals, then the summary file
// when writing a zip. It does not close the underlying writer.
func (b *AlipayBillWriter) Close() error {
	if b.closed {
		return b.err
	}
	b.closed = true
	b.line(alipayDetailEnd)
	b.line(fmt.Sprintf("#交易合计：%d笔，商家实收共%s元，商家优惠共0.00元", b.payments, b.paymentNet))
	b.line(fmt.Sprintf("#退款合计：%d笔，商家实收退款共%s元，商家优惠退款共0.00元", b.refunds, b.refundNet))
	b.line("#导出时间：[" + alipayCNTime(b.exportedAt.In(b.zone)) + "]")
	if b.err == nil {
		b.err = b.out.Flush()
	}
	if b.zw == nil || b.err != nil {
		return b.err
	}
	entry, err := b.zw.CreateHeader(&zip.FileHeader{Name: b.summaryGBK, NonUTF8: true, Method: zip.Deflate, Modified: b.start})
	if err != nil {
		b.err = err
		return err
	}
	b.out = bufio.NewWriter(entry)
	b.writePreamble(alipaySummaryTitle, alipaySummaryBegin, alipaySummaryHeader)
	net := b.paymentNet + b.refundNet
	b.line(fmt.Sprintf("合计,,%d,%d,%s,%s,0.00,0.00,0.00,%s,0.00,%s", b.payments, b.refunds,
		b.paymentAmt+b.refundAmt, net, b.fees, net+b.fees))
	b.line(alipaySummaryEnd)
	b.line("#导出时间：[" + alipayCNTime(b.exportedAt.In(b.zone)) + "]")
	if b.err == nil {
		b.err = b.out.Flush()
	}
	if b.err == nil {
		b.err = b.zw.Close()
	}
	return b.err
}

// AlipayFee is the sandbox's service fee: 0.6% of the amount, rounded half
// up to the fen. Fees returned by refunds telescope over the cumulative
// refunded amount, so a trade refunded in any number of parts returns
// exactly the fee it was charged.
func AlipayFee(amount gateway.Money) gateway.Money { return (amount*6 + 500) / 1000 }

// alipayBillTicket is a download URL handed out by the bill URL query: valid
// for a short while, as Alipay's are (30 seconds).
type alipayBillTicket struct {
	day      time.Time
	billType string // trade or signcustomer
	expires  time.Time
}

const alipayBillTicketTTL = 30 * time.Second

func (a *alipaySide) issueBillTicket(day time.Time, billType string) string {
	var raw [16]byte
	_, _ = rand.Read(raw[:])
	token := hex.EncodeToString(raw[:])
	now := a.s.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, t := range a.bills {
		if now.After(t.expires) {
			delete(a.bills, k)
		}
	}
	a.bills[token] = alipayBillTicket{day: day, billType: billType, expires: now.Add(alipayBillTicketTTL)}
	return token
}

// exportedAt is when the day's bill of a type (trade, signcustomer) was
// first made: its first download.
func (a *alipaySide) exportedAt(billType string, day time.Time) time.Time {
	key := billType + " " + day.Format(time.DateOnly)
	a.mu.Lock()
	defer a.mu.Unlock()
	at, ok := a.exported[key]
	if !ok {
		at = a.s.now()
		a.exported[key] = at
	}
	return at
}

// handleBillDownload serves GET /alipay/bill/{token}: the bill zip of the
// ticket's day, made from the trade book at download time.
func (a *alipaySide) handleBillDownload(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	a.mu.Lock()
	t, ok := a.bills[token]
	a.mu.Unlock()
	if !ok || a.s.now().After(t.expires) {
		http.Error(w, "bill download link unknown or expired", http.StatusNotFound)
		return
	}
	account := a.billAccount()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%s_%s.csv.zip", account, t.day.Format("20060102")))
	if t.billType == "signcustomer" {
		if _, err := a.s.WriteAlipayFundZip(w, t.day); err != nil {
			a.s.cfg.Logger.Error("sandbox alipay fund bill", "err", err)
		}
		return
	}
	rows := a.billRows(t.day)
	bw := NewAlipayBillZip(w, account, t.day)
	bw.SetExportedAt(a.exportedAt(t.billType, t.day))
	for _, row := range rows {
		if err := bw.Add(row); err != nil {
			a.s.cfg.Logger.Error("sandbox alipay bill", "err", err)
			return
		}
	}
	if err := bw.Close(); err != nil {
		a.s.cfg.Logger.Error("sandbox alipay bill", "err", err)
	}
}

// billRows lists a business day's bill rows: payments by when they were
// paid, refunds by when they succeeded — so a payment at 00:00:30 is in the
// next day's bill, and the refund of an older order is in the bill of the
// day it was refunded.
func (a *alipaySide) billRows(day time.Time) []AlipayBillRow {
	zone := a.s.Zone()
	start, end := gateway.Day(day, zone)
	in := func(t time.Time) bool { return !t.IsZero() && !t.Before(start) && t.Before(end) }
	var rows []AlipayBillRow
	for _, t := range a.s.Trades(gateway.Alipay) {
		if t.State != gateway.TradePaid {
			continue
		}
		buyer := alipayMaskLogonID(t.BuyerID)
		if in(t.BookedAt()) {
			rows = append(rows, AlipayBillRow{TradeNo: t.TradeNo, OutTradeNo: t.OutTradeNo, Subject: t.Subject,
				CreatedAt: t.CreatedAt, FinishedAt: t.BookedAt(), Buyer: buyer, Amount: t.Amount, Fee: a.s.tradeFee(t)})
		}
		back := refundFees(t)
		for _, r := range t.Refunds {
			if r.Status == gateway.RefundSuccess && in(t.RefundBookedAt(r)) {
				rows = append(rows, AlipayBillRow{Refund: true, TradeNo: t.TradeNo, OutTradeNo: t.OutTradeNo, Subject: t.Subject,
					CreatedAt: t.CreatedAt, FinishedAt: t.RefundBookedAt(r), Buyer: buyer, Amount: r.Amount,
					OutRequestNo: r.OutRequestNo, Fee: back[r.OutRequestNo], Remark: r.Reason})
			}
		}
	}
	slices.SortStableFunc(rows, func(x, y AlipayBillRow) int {
		return cmp.Or(x.FinishedAt.Compare(y.FinishedAt), strings.Compare(x.TradeNo, y.TradeNo))
	})
	return rows
}
