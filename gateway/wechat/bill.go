package wechat

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/paydesk/paydesk/gateway"
)

// Column names of WeChat Pay trade bills. The layouts differ by bill type
// (ALL 27 columns, SUCCESS 20, REFUND 29) and by age (the 2014 layout has 24
// columns and other names for the amount columns), so columns are always
// found by name, never by position.
const (
	colTime            = "交易时间"
	colTradeNo         = "微信订单号"
	colOutTradeNo      = "商户订单号"
	colTradeState      = "交易状态"
	colSettleAmount    = "应结订单金额"
	colLegacyTotal     = "总金额" // 2014 layout: the order amount, nothing else
	colRefundID        = "微信退款单号"
	colOutRefundNo     = "商户退款单号"
	colRefundAmount    = "退款金额"
	colCouponRefund    = "充值券退款金额"
	colLegacyCoupon    = "代金券或立减优惠退款金额"
	colRefundState     = "退款状态"
	colSubject         = "商品名称"
	colFee             = "手续费"
	colOrderAmount     = "订单金额"
	colApplyRefund     = "申请退款金额"
	colRefundSucceeded = "退款成功时间" // REFUND bills only
	colMchID           = "商户号"
	colSubMchID        = "特约商户号" // a service provider's sub-merchant; "0" or empty when none
	colLegacySubMchID  = "子商户号"  // 2014 layout

	fundFlowFirstColumn = "记账时间" // the fund-flow bill (资金账单), not a trade bill

	summaryFirstColumn = "总交易单数"
)

// Summary titles, current and 2014 names, mapped to the column sum each one
// states.
var summaryFigures = map[string]sumID{
	"应结订单总金额":          sumSettle,
	"总交易额":             sumSettle, // 2014: Σ 总金额
	"退款总金额":            sumRefund,
	"总退款金额":            sumRefund,
	"充值券退款总金额":         sumCouponRefund,
	"总代金券或立减优惠退款金额":    sumCouponRefund,
	"手续费总金额":           sumFee,
	"订单总金额":            sumOrder,
	"申请退款总金额":          sumApplyRefund,
	summaryFirstColumn: sumCount,
}

type sumID int

const (
	sumCount sumID = iota
	sumSettle
	sumRefund
	sumCouponRefund
	sumFee
	sumOrder
	sumApplyRefund
	numSums
)

var sumNames = [numSums]string{
	sumCount:        "总交易单数",
	sumSettle:       "应结订单总金额",
	sumRefund:       "退款总金额",
	sumCouponRefund: "充值券退款总金额",
	sumFee:          "手续费总金额",
	sumOrder:        "订单总金额",
	sumApplyRefund:  "申请退款总金额",
}

// maxLine bounds one bill line; real rows are a few hundred bytes, and the
// bound keeps a file without newlines from filling memory.
const maxLine = 1 << 20

// OpenBill reads a WeChat Pay trade bill (ALL, SUCCESS or REFUND; the
// current layouts and the 2014 one), as text or gzip (detected by its magic
// bytes). name is used in error messages only.
//
// Each detail row becomes one BillLine:
//   - a payment: Amount = 订单金额 (应结订单金额 where a layout has no 订单金额,
//     总金额 in the 2014 layout), Net = 应结订单金额, Fee = 手续费;
//   - a refund (交易状态 REFUND, or any row of a REFUND bill; it carries the
//     original order numbers and 0.00 in the order amounts): OutRequestNo =
//     商户退款单号, RefundID = 微信退款单号, Amount = 申请退款金额 (what the merchant
//     asked, the counterpart of a payment's 订单金额; 退款金额 where the layout
//     has no 申请退款金额), Net = −退款金额 (what leaves the settlement), Fee =
//     手续费 (negative: the fee returned).
//
// A row is dated by 交易时间: a payment's time, and a refund's request time
// (WeChat dates a refund row when the refund was initiated, in the ALL and
// the REFUND bill alike, and never updates its 退款状态: RefundStatus is
// what it said when the bill was cut). Times are read in Asia/Shanghai (see
// OpenBillIn). Every figure of the summary row is checked against the sums
// of the rows before Next returns io.EOF, so an excerpt whose summary covers
// more rows than it holds (as published samples often are) fails at its
// summary line: a bill is whole or an error, never silently partial. A
// fund-flow bill (资金账单) is refused as not a trade bill. A UTF-8 BOM
// before the header (the platform writes one) is skipped. Every error is a
// *gateway.BillError naming name and the line.
func OpenBill(name string, r io.Reader) (gateway.BillReader, error) {
	return Open(name, r, gateway.BillOptions{})
}

// OpenBillIn is OpenBill with the zone the bill's times are read in (the
// Zone of the Config; nil means gateway.Shanghai).
func OpenBillIn(name string, r io.Reader, zone *time.Location) (gateway.BillReader, error) {
	return Open(name, r, gateway.BillOptions{Zone: zone})
}

// Open is OpenBill holding the bill to opt: every row must be of the
// merchant (特约商户号 where set, else 商户号; and all rows of one) and dated
// on the day, no row may repeat an earlier one's (trade, 交易状态, 商户退款单号),
// and the text stops at opt.Limits; else the line that shows it is refused.
func Open(name string, r io.Reader, opt gateway.BillOptions) (gateway.BillReader, error) {
	chk := gateway.NewBillCheck(opt)
	b := &billReader{name: name, zone: chk.Opt.Zone, BillCheck: chk}
	if err := b.openText(r); err != nil {
		return nil, err
	}
	if err := b.readHeader(); err != nil {
		return nil, err
	}
	return b, nil
}

// openText starts reading r, a bill's text or its gzip, bounded by the
// options' inflated-size cap. Gzip is told by its magic bytes: the platform
// sends gzip when asked (tar_type=GZIP) and people save either form.
func (b *billReader) openText(r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	max := b.Opt.Limits.MaxInflated
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return &gateway.BillError{File: b.name, Err: fmt.Errorf("gzip: %w", err)}
		}
		b.r = bufio.NewReaderSize(gateway.LimitInflated(zr, max), 64<<10)
		return nil
	}
	b.r = bufio.NewReaderSize(gateway.LimitInflated(br, max), 64<<10)
	return nil
}

// billReader is a streaming parser: it reads one line at a time, so a
// million-row bill costs no more memory than the rows the caller keeps.
type billReader struct {
	name string
	zone *time.Location
	r    *bufio.Reader
	line int    // number of the last line read
	long []byte // spill buffer for lines longer than the bufio buffer

	// text is a bump allocator for the rows' strings: filled parts are
	// never written again, and a full block is replaced, not reused, so
	// the strings of a line a caller copied stay valid. The BillLine
	// itself comes from ring (valid until the next call of Next). One
	// allocation per block instead of one per row is what keeps a
	// million-row bill fast.
	text []byte
	ring gateway.LineRing

	header []string
	last   string // the row Next returned last (see LineText)
	cols   columns
	kind   string // "ALL", "SUCCESS", "REFUND" or "2014", for messages
	fields []string

	gateway.BillCheck
	// account is the merchant of the rows read so far (see merchantOf),
	// first seen on line accountLine.
	account     string
	accountLine int

	rows     int
	sums     [numSums]gateway.Money
	computed gateway.BillTotals
	stated   [numSums]gateway.Money
	hasStat  [numSums]bool
	done     bool
	err      error // sticky: once failed, always failed
}

// columns are the positions of the columns the parser reads; -1 is absent.
type columns struct {
	time, tradeNo, outTradeNo, state, settle, refundID, outRefundNo,
	refund, couponRefund, refundState, subject, fee, order, applyRefund,
	refundSucceeded, mchID, subMchID int
	refundBill bool // a REFUND bill: every row is a refund
}

func (b *billReader) fail(line int, format string, args ...any) error {
	b.err = &gateway.BillError{File: b.name, Line: line, Err: fmt.Errorf(format, args...)}
	return b.err
}

// readLine returns the next line without its line ending (LF or CRLF), or
// io.EOF. The slice is valid until the next call.
func (b *billReader) readLine() ([]byte, error) {
	line, err := b.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		b.long = append(b.long[:0], line...)
		for err == bufio.ErrBufferFull {
			if len(b.long) > maxLine {
				return nil, b.fail(b.line+1, "line longer than %d bytes: not a WeChat bill", maxLine)
			}
			line, err = b.r.ReadSlice('\n')
			b.long = append(b.long, line...)
		}
		line = b.long
	}
	if err != nil && err != io.EOF {
		if errors.Is(err, gateway.ErrBillTooLarge) {
			return nil, b.fail(b.line+1, "%w", err)
		}
		return nil, b.fail(b.line+1, "read: %w", err)
	}
	if err == io.EOF && len(line) == 0 {
		return nil, io.EOF
	}
	if b.line >= b.Opt.Limits.MaxLines {
		return nil, b.fail(b.line+1, "%w: more than %d lines", gateway.ErrBillTooLarge, b.Opt.Limits.MaxLines)
	}
	b.line++
	line = bytes.TrimSuffix(line, []byte{'\n'})
	line = bytes.TrimSuffix(line, []byte{'\r'})
	return line, nil
}

func (b *billReader) readHeader() error {
	var line []byte
	var err error
	for {
		line, err = b.readLine()
		if err == io.EOF {
			return b.fail(0, "empty file: no header line")
		}
		if err != nil {
			return err
		}
		if b.line == 1 {
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf")) // a BOM some tools add
		}
		if len(bytes.TrimSpace(line)) > 0 {
			break
		}
	}
	if !utf8.Valid(line) {
		return b.fail(b.line, "header is not UTF-8 (a GBK file? WeChat bills are UTF-8)")
	}
	b.header = strings.Split(string(line), ",")
	for i, h := range b.header {
		b.header[i] = strings.TrimSpace(h)
	}
	if b.header[0] == fundFlowFirstColumn {
		return b.fail(b.line, "not a trade bill: this is a fund-flow bill (资金账单, header starts with %s)", fundFlowFirstColumn)
	}
	idx := make(map[string]int, len(b.header))
	for i, h := range b.header {
		if _, dup := idx[h]; dup {
			return b.fail(b.line, "column %q appears twice in the header", h)
		}
		idx[h] = i
	}
	col := func(name string) int {
		if i, ok := idx[name]; ok {
			return i
		}
		return -1
	}
	c := columns{
		time: col(colTime), tradeNo: col(colTradeNo), outTradeNo: col(colOutTradeNo),
		state: col(colTradeState), settle: col(colSettleAmount), refundID: col(colRefundID),
		outRefundNo: col(colOutRefundNo), refund: col(colRefundAmount), couponRefund: col(colCouponRefund),
		refundState: col(colRefundState), subject: col(colSubject), fee: col(colFee),
		order: col(colOrderAmount), applyRefund: col(colApplyRefund), refundSucceeded: col(colRefundSucceeded),
		mchID: col(colMchID), subMchID: col(colSubMchID),
	}
	if c.subMchID < 0 {
		c.subMchID = col(colLegacySubMchID)
	}
	b.kind = "ALL"
	if c.settle < 0 && col(colLegacyTotal) >= 0 {
		// 2014 layout: 总金额 is the order amount and there is no separate
		// settlement figure, so it serves as both.
		c.settle = col(colLegacyTotal)
		c.couponRefund = col(colLegacyCoupon)
		b.kind = "2014"
	}
	var missing []string
	for name, i := range map[string]int{colTime: c.time, colTradeNo: c.tradeNo, colOutTradeNo: c.outTradeNo,
		colTradeState: c.state, colSettleAmount: c.settle, colFee: c.fee} {
		if i < 0 {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return b.fail(b.line, "unknown bill layout: header has no %s column (is this a WeChat Pay trade bill?)", strings.Join(sortedStrings(missing), ", "))
	}
	switch {
	case c.refundSucceeded >= 0:
		c.refundBill = true
		b.kind = "REFUND"
	case c.refund < 0 && b.kind == "ALL":
		b.kind = "SUCCESS"
	}
	if c.refundBill && (c.refund < 0 || c.outRefundNo < 0) {
		return b.fail(b.line, "unknown bill layout: a REFUND bill without %s or %s", colRefundAmount, colOutRefundNo)
	}
	b.cols = c
	b.fields = make([]string, 0, len(b.header))
	return nil
}

func sortedStrings(s []string) []string {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}

// keep copies a row into the text block and returns it as a string that
// shares the block's memory (see billReader.text).
func (b *billReader) keep(raw []byte) string {
	if len(raw) == 0 {
		return ""
	}
	if cap(b.text)-len(b.text) < len(raw) {
		b.text = make([]byte, 0, max(64<<10, len(raw)))
	}
	off := len(b.text)
	b.text = append(b.text, raw...)
	return unsafe.String(&b.text[off], len(raw))
}

// splitRow splits a detail or summary row. Every value starts with a
// backtick (WeChat's guard against spreadsheets reading numbers), so values
// are separated by ",`" and a comma inside a value (商户数据包 is free JSON)
// does not split it. raw and s hold the same bytes: raw is scanned, s is
// sliced, so the values share s's one allocation. It also returns where the
// first non-ASCII byte may be (-1: none), so UTF-8 is checked from there on
// only.
func (b *billReader) splitRow(raw []byte, s string) (fields []string, ok bool, firstHigh int) {
	firstHigh = -1
	if len(raw) == 0 || raw[0] != '`' || len(s) != len(raw) {
		return nil, false, firstHigh
	}
	f := b.fields[:0]
	start := 1
	// This loop is most of the parser's time on a million-row bill, so it
	// looks at eight bytes at a time: the mask has 0x80 in each byte of the
	// word that is a backtick (the exact zero-byte test applied to w XOR
	// "````````").
	const ones, low7, highs = 0x0101010101010101, 0x7f7f7f7f7f7f7f7f, 0x8080808080808080
	i := 0
	for ; i+8 <= len(raw); i += 8 {
		w := binary.LittleEndian.Uint64(raw[i:])
		if firstHigh < 0 && w&highs != 0 {
			firstHigh = i
		}
		x := w ^ (ones * '`')
		for m := ^(((x & low7) + low7) | x | low7); m != 0; m &= m - 1 {
			j := i + bits.TrailingZeros64(m)>>3
			if j > 0 && raw[j-1] == ',' {
				f = append(f, s[start:j-1])
				start = j + 1
			}
		}
	}
	for ; i < len(raw); i++ {
		if firstHigh < 0 && raw[i] >= 0x80 {
			firstHigh = i
		}
		if raw[i] == '`' && i > 0 && raw[i-1] == ',' {
			f = append(f, s[start:i-1])
			start = i + 1
		}
	}
	f = append(f, s[start:])
	b.fields = f
	return f, true, firstHigh
}

// Next returns the next detail row, or io.EOF once the summary row has been
// read and agrees with the rows.
func (b *billReader) Next() (*gateway.BillLine, error) {
	if b.err != nil {
		return nil, b.err
	}
	if b.done {
		return nil, io.EOF
	}
	for {
		raw, err := b.readLine()
		if err == io.EOF {
			return nil, b.fail(b.line, "truncated: the file ends after %d rows without the summary (%s...) line", b.rows, summaryFirstColumn)
		}
		if err != nil {
			return nil, err
		}
		if len(raw) == 0 {
			continue
		}
		if raw[0] != '`' {
			if bytes.HasPrefix(raw, []byte(summaryFirstColumn)) {
				if err := b.readSummary(raw); err != nil {
					return nil, err
				}
				return nil, io.EOF
			}
			if !utf8.Valid(raw) {
				return nil, b.fail(b.line, "not UTF-8 (a GBK file? WeChat bills are UTF-8)")
			}
			return nil, b.fail(b.line, "unexpected line: a detail row starts with a backtick, the summary with %s", summaryFirstColumn)
		}
		return b.row(raw)
	}
}

func (b *billReader) row(raw []byte) (*gateway.BillLine, error) {
	s := b.keep(raw)
	b.last = s
	f, _, firstHigh := b.splitRow(raw, s)
	if firstHigh >= 0 && !utf8.ValidString(s[firstHigh:]) {
		return nil, b.fail(b.line, "not UTF-8 (a GBK file? WeChat bills are UTF-8)")
	}
	if len(f) != len(b.header) {
		return nil, b.fail(b.line, "%d values where the header has %d columns (a truncated or damaged row?)", len(f), len(b.header))
	}
	c := &b.cols
	l := b.ring.Take()
	*l = gateway.BillLine{
		Line:       b.line,
		TradeNo:    f[c.tradeNo],
		OutTradeNo: f[c.outTradeNo],
		State:      f[c.state],
	}
	if c.subject >= 0 {
		l.Subject = f[c.subject]
	}
	var err error
	var settle, refund, coupon, fee, order, apply gateway.Money
	if settle, err = b.money(f, c.settle, colSettleAmount); err != nil {
		return nil, err
	}
	if fee, err = b.money(f, c.fee, colFee); err != nil {
		return nil, err
	}
	if refund, err = b.money(f, c.refund, colRefundAmount); err != nil {
		return nil, err
	}
	if coupon, err = b.money(f, c.couponRefund, colCouponRefund); err != nil {
		return nil, err
	}
	if order, err = b.money(f, c.order, colOrderAmount); err != nil {
		return nil, err
	}
	if apply, err = b.money(f, c.applyRefund, colApplyRefund); err != nil {
		return nil, err
	}
	l.Fee = fee
	isRefund := c.refundBill || l.State == "REFUND"
	business := l.State
	if isRefund {
		if c.refund < 0 || c.outRefundNo < 0 {
			return nil, b.fail(b.line, "交易状态 REFUND in a %s bill that has no refund columns", b.kind)
		}
		l.Kind = gateway.LineRefund
		l.OutRequestNo = f[c.outRefundNo]
		if c.refundID >= 0 {
			l.RefundID = f[c.refundID]
		}
		l.RefundStatus = gateway.RefundSuccess
		if c.refundState >= 0 && f[c.refundState] != "" {
			l.State = f[c.refundState]
			st, ok := refundStatuses[l.State]
			if !ok {
				return nil, b.fail(b.line, "退款状态 %q is none of SUCCESS, PROCESSING, ABNORMAL, CLOSED", l.State)
			}
			l.RefundStatus = st
		}
		l.Amount = refund
		if c.applyRefund >= 0 {
			l.Amount = apply
		}
		l.Net = -refund
		if l.Amount < 0 || refund < 0 {
			return nil, b.fail(b.line, "negative refund amount %s on a refund row", l.Amount)
		}
		if settle != 0 || order != 0 {
			// A refund row carries the original order's numbers but not its
			// amounts; an amount here would be counted twice.
			return nil, b.fail(b.line, "refund row with order amounts (%s %s, %s %s); WeChat writes 0.00 there", colSettleAmount, settle, colOrderAmount, order)
		}
	} else {
		switch l.State {
		case "SUCCESS", "REVOKED":
			// REVOKED (a micropay order cancelled by the merchant) is listed
			// with its order amount like a payment; it stays a payment line
			// with its State so reconciliation can see it.
		default:
			return nil, b.fail(b.line, "交易状态 %q is neither a payment (SUCCESS, REVOKED) nor REFUND", l.State)
		}
		l.Kind = gateway.LinePayment
		l.Amount = settle
		if c.order >= 0 {
			l.Amount = order
		}
		l.Net = settle
		if l.Amount < 0 || settle < 0 {
			return nil, b.fail(b.line, "negative order amount %s on a payment row", l.Amount)
		}
		if refund != 0 || apply != 0 {
			return nil, b.fail(b.line, "payment row with refund amounts (%s %s, %s %s); WeChat books a refund as its own row", colRefundAmount, refund, colApplyRefund, apply)
		}
	}
	if l.Time, err = parseBillTime(f[c.time], b.zone); err != nil {
		return nil, b.fail(b.line, "%s %q: %v", b.header[c.time], f[c.time], err)
	}
	if err := b.holdRow(l, f, business); err != nil {
		return nil, err
	}
	b.rows++
	b.sums[sumCount]++
	b.sums[sumSettle] += settle
	b.sums[sumRefund] += refund
	b.sums[sumCouponRefund] += coupon
	b.sums[sumFee] += fee
	b.sums[sumOrder] += order
	b.sums[sumApplyRefund] += apply
	b.computed.Add(l)
	return l, nil
}

// money parses the amount in column i (zero when the layout lacks it).
func (b *billReader) money(f []string, i int, name string) (gateway.Money, error) {
	if i < 0 {
		return 0, nil
	}
	m, err := gateway.ParseMoney(f[i])
	if err != nil {
		return 0, b.fail(b.line, "%s: %v", b.header[i], explainMoney(f[i], err))
	}
	return m, nil
}

// explainMoney says why an amount was refused, singling out the case of a
// five-decimal fee that is not a whole number of fen.
func explainMoney(s string, err error) error {
	if dot := strings.IndexByte(s, '.'); dot >= 0 && len(s)-dot-1 > 2 {
		if _, e := gateway.ParseMoney(s[:dot+3]); e == nil && strings.Trim(s[dot+3:], "0123456789") == "" {
			return fmt.Errorf("amount %q has non-zero digits past the fen (0.01 yuan); paydesk keeps money in whole fen and will not round", s)
		}
	}
	return err
}

// parseBillTime reads "2006-01-02 15:04:05" in zone. The 2014 layout writes
// full-width colons (16：33：45), which are accepted as well.
func parseBillTime(s string, zone *time.Location) (time.Time, error) {
	if len(s) != 19 {
		if strings.Contains(s, "：") {
			s = strings.ReplaceAll(s, "：", ":")
		}
		if len(s) != 19 {
			return time.Time{}, errors.New("want a time like 2006-01-02 15:04:05")
		}
	}
	if s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, errors.New("want a time like 2006-01-02 15:04:05")
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	y, mo, d, h, mi, sec := num(0, 4), num(5, 2), num(8, 2), num(11, 2), num(14, 2), num(17, 2)
	if y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59 {
		return time.Time{}, errors.New("want a time like 2006-01-02 15:04:05")
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, 0, zone)
	if t.Day() != d {
		return time.Time{}, errors.New("no such day")
	}
	return t, nil
}

// readSummary reads the summary title line (already read, in title) and the
// one summary row after it, and checks every stated figure against the rows.
func (b *billReader) readSummary(title []byte) error {
	if r := b.Keys.Flush(); r != nil {
		return b.repeated(r)
	}
	names, row, titleLine, summaryLine, err := b.summaryRow(title)
	if err != nil {
		return err
	}
	for i, n := range names {
		n = strings.TrimSpace(n)
		id, known := summaryFigures[n]
		if !known {
			continue // a figure paydesk does not check; the rows still must add up to the known ones
		}
		var v gateway.Money
		if id == sumCount {
			cnt, err := strconv.ParseUint(wholeCount(row[i]), 10, 31)
			if err != nil {
				return b.fail(summaryLine, "%s %q is not a row count", n, row[i])
			}
			v = gateway.Money(cnt)
		} else {
			m, err := gateway.ParseMoney(row[i])
			if err != nil {
				return b.fail(summaryLine, "%s: %v", n, explainMoney(row[i], err))
			}
			v = m
		}
		b.stated[id], b.hasStat[id] = v, true
	}
	// The figures Stated reports must all be stated, so that a bill that
	// reached io.EOF has Stated() == Computed().
	need := []sumID{sumCount, sumSettle, sumFee}
	for _, opt := range []struct {
		id  sumID
		col int
	}{{sumRefund, b.cols.refund}, {sumOrder, b.cols.order}, {sumApplyRefund, b.cols.applyRefund}} {
		if opt.col >= 0 {
			need = append(need, opt.id)
		}
	}
	for _, id := range need {
		if !b.hasStat[id] {
			return b.fail(titleLine, "summary does not state %s", sumNames[id])
		}
	}
	var disagree []string
	for id := range numSums {
		if !b.hasStat[id] || b.stated[id] == b.sums[id] {
			continue
		}
		if id == sumCount {
			disagree = append(disagree, fmt.Sprintf("%s states %d rows, the file has %d", sumNames[id], b.stated[id], b.sums[id]))
		} else {
			disagree = append(disagree, fmt.Sprintf("%s states %s, the rows add up to %s", sumNames[id], b.stated[id], b.sums[id]))
		}
	}
	if len(disagree) > 0 {
		return b.fail(summaryLine, "totals disagree with the rows (an excerpt or a damaged file?): %s", strings.Join(disagree, "; "))
	}
	b.done = true
	return nil
}

// summaryRow reads the summary row after its title (the line just read),
// splits it into as many values as the title has names, and checks that
// nothing but blank lines follows: anything else means two bills were
// joined or the file is damaged. The names are trimmed.
func (b *billReader) summaryRow(title []byte) (names, row []string, titleLine, summaryLine int, err error) {
	titleLine = b.line
	if !utf8.Valid(title) {
		return nil, nil, 0, 0, b.fail(titleLine, "summary title is not UTF-8")
	}
	names = strings.Split(string(title), ",")
	for i := range names {
		names[i] = strings.TrimSpace(names[i])
	}
	var raw []byte
	for {
		raw, err = b.readLine()
		if err == io.EOF {
			return nil, nil, 0, 0, b.fail(titleLine, "truncated: the summary title has no summary row after it")
		}
		if err != nil {
			return nil, nil, 0, 0, err
		}
		if len(raw) > 0 {
			break
		}
	}
	if !utf8.Valid(raw) {
		return nil, nil, 0, 0, b.fail(b.line, "summary row is not UTF-8")
	}
	row, ok, _ := b.splitRow(raw, string(raw))
	if !ok || len(row) != len(names) {
		return nil, nil, 0, 0, b.fail(b.line, "summary row has %d values for %d titles on line %d", len(row), len(names), titleLine)
	}
	row = append([]string(nil), row...) // splitRow's slice is reused
	summaryLine = b.line
	for {
		extra, err := b.readLine()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, 0, 0, err
		}
		if len(bytes.TrimSpace(extra)) > 0 {
			return nil, nil, 0, 0, b.fail(b.line, "unexpected content after the summary row (line %d)", summaryLine)
		}
	}
	return names, row, titleLine, summaryLine, nil
}

// Stated returns the summary's figures. WeChat states one count for all
// rows (总交易单数) and no split between payments and refunds; Stated splits
// it as the rows do (Refunds = refund rows read, Payments = the rest), which
// is exact once Next has returned io.EOF, because the total was checked.
// After io.EOF, Stated() == Computed() (the reader requires every figure it
// reports to be stated, and refund rows to carry no order amounts).
// PaymentAmount is 订单总金额 (总交易额 in the 2014 layout, 应结订单总金额 when
// neither is stated), RefundAmount is 申请退款总金额 (else 退款总金额), Fees is
// 手续费总金额 and Net is 应结订单总金额 − 退款总金额.
func (b *billReader) Stated() gateway.BillTotals {
	t := gateway.BillTotals{
		Refunds: b.computed.Refunds,
		Fees:    b.stated[sumFee],
		Net:     b.stated[sumSettle] - b.stated[sumRefund],
	}
	t.Payments = int(b.stated[sumCount]) - t.Refunds
	t.PaymentAmount = b.stated[sumSettle]
	if b.hasStat[sumOrder] {
		t.PaymentAmount = b.stated[sumOrder]
	}
	t.RefundAmount = b.stated[sumRefund]
	if b.hasStat[sumApplyRefund] {
		t.RefundAmount = b.stated[sumApplyRefund]
	}
	return t
}

// Computed returns the totals of the rows read so far.
func (b *billReader) Computed() gateway.BillTotals { return b.computed }
