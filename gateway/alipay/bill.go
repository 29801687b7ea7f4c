package alipay

import (
	"bufio"
	"bytes"
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

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"

	"github.com/paydesk/paydesk/gateway"
)

// Every error of OpenBill and of its reader's Next is a *gateway.BillError
// naming the file and line, wrapping one of these.
var (
	// ErrBillTruncated: the file ends before its end marker or totals.
	ErrBillTruncated = errors.New("bill is truncated")
	// ErrBillEncoding: the text is neither GBK nor UTF-8 (or mixes them).
	ErrBillEncoding = errors.New("bill is neither GBK nor UTF-8 text")
	// ErrBillLayout: not an Alipay trade bill detail file (no header, a
	// required column missing, a line where none belongs).
	ErrBillLayout = errors.New("not an Alipay trade bill detail file")
	// ErrBillRow: a detail row that cannot be read (field count, amount,
	// time, business type).
	ErrBillRow = errors.New("bad bill row")
	// ErrBillTotals: the #交易合计 / #退款合计 lines disagree with the rows.
	ErrBillTotals = errors.New("bill totals disagree with its rows")
)

// Header names of the columns the parser reads. Columns are found by name:
// Alipay has variants with more columns (实收净额（元）, 商户识别号, 交易方式...)
// and merchants' tools reorder them.
const (
	colTradeNo    = "支付宝交易号"
	colOutTradeNo = "商户订单号"
	colKind       = "业务类型"
	colSubject    = "商品名称"
	colFinished   = "完成时间"
	colAmount     = "订单金额（元）"
	colNet        = "商家实收（元）"
	colRequestNo  = "退款批次号/请求号"
	colFee        = "服务费（元）"
	// colNetAfterFee is in the summary file and in some detail layouts:
	// 商家实收 after the service fee, which tells the fee's sign.
	colNetAfterFee = "实收净额（元）"
	colRemark      = "备注"
)

var requiredColumns = []string{colTradeNo, colOutTradeNo, colKind, colFinished, colAmount, colNet, colRequestNo, colFee}

// Business types of the detail rows, and the markers of the file.
const (
	kindPayment = "交易"
	kindRefund  = "退款"
	markEnd     = "业务明细列表结束"
	markPaySum  = "#交易合计"
	markRefSum  = "#退款合计"
)

// maxLine bounds one line of a bill; real rows are a few hundred bytes.
const maxLine = 1 << 20

type textEncoding int

const (
	encUnknown textEncoding = iota
	encUTF8
	encGBK
)

func (e textEncoding) String() string {
	switch e {
	case encUTF8:
		return "UTF-8"
	case encGBK:
		return "GBK"
	}
	return "unknown"
}

// markers are the non-ASCII tokens the reader compares rows against, as
// bytes in the file's encoding. Rows are split and compared without being
// decoded: in GBK no byte of a two-byte character is ever below 0x40, so
// ',', TAB, CR, LF, '#', '-', '.' and digits only ever mean themselves.
type markers struct {
	payment, refund, end, paySum, refSum []byte
}

func markersFor(enc textEncoding) markers {
	conv := func(s string) []byte {
		if enc == encGBK {
			b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
			if err != nil {
				panic(err) // fixed Chinese text that GBK has
			}
			return b
		}
		return []byte(s)
	}
	return markers{conv(kindPayment), conv(kindRefund), conv(markEnd), conv(markPaySum), conv(markRefSum)}
}

type billState int

const (
	stRows billState = iota
	stAfterEnd
)

// statedTotal is one #交易合计 or #退款合计 line as the bill states it.
type statedTotal struct {
	line      int
	count     int
	net       gateway.Money // 商家实收共X元 / 商家实收退款共-X元
	hasNet    bool
	amount    gateway.Money // 交易金额共X元 / 交易退款金额共X元 (older layout)
	hasAmount bool
}

type billReader struct {
	file   string
	zone   *time.Location
	br     *bufio.Reader
	closer io.Closer
	line   int
	long   []byte // a line longer than the bufio buffer

	enc    textEncoding
	mk     markers
	gbk    transform.Transformer
	ncol   int
	extra  bool // rows may have more fields than the header: 备注 is last and may hold commas
	cTrade int
	cOut   int
	cKind  int
	cSubj  int // -1 when absent
	cFin   int
	cAmt   int
	cNet   int
	cReq   int
	cFee   int
	cNet2  int // 实收净额（元）, in the layouts that have it; -1 when absent

	gateway.BillCheck
	// account is the #账号 of the preamble (line accountLine), window the
	// #起始日期 / 终止日期 (line windowLine); empty and zero when absent.
	account     string
	accountLine int
	window      [2]time.Time
	windowLine  int

	// feeSign is how the file prints a charged 服务费: -1 negative (Fee =
	// −服务费), +1 positive; feeFrom says what told it (see feeSignNote).
	feeSign     int
	feeFrom     string
	feeSignLine int
	summary     *summaryFile // the zip's 业务明细(汇总), nil without one
	sums        []columnSum  // the detail's sums of the columns the summary states

	columns []string // the header's names as written
	last    []byte   // the row Next returned last (see LineText)

	state              billState
	endLine            int
	paySum, refSum     *statedTotal
	computed           gateway.BillTotals
	paymentNet, refNet gateway.Money
	stated             gateway.BillTotals

	commas []int32
	// arena holds the rows' text, in blocks (block). With Opt.TextRows
	// set, filled are the blocks written to their end, oldest first; rows
	// counts the rows handed out.
	arena    []byte
	filled   []textBlock
	rows     int
	subjects map[string]string // GBK/UTF-8 bytes of a 商品名称 → its text, its own copy
	times    timeCache
	ring     gateway.LineRing
	err      error // sticky: once failed (or at EOF) Next keeps answering it
}

// OpenBill reads an Alipay trade bill: the zip as downloaded (GBK entry
// names and contents: the 业务明细 detail file's rows, checked against the
// 业务明细(汇总) summary file's totals), or the detail CSV alone in GBK or
// UTF-8 (detected). name is used in error messages. Rows stream from Next;
// at io.EOF the rows have been checked against the file's #交易合计 /
// #退款合计 lines and the summary.
//
// Each line maps a row as the bill prints it: Amount is 订单金额 made
// positive (refund rows print it negative), Net is 商家实收 with its sign,
// Fee is 服务费 turned to gateway.BillLine's convention (positive when
// charged), OutRequestNo is 退款批次号/请求号 on refund rows, Time is 完成时间,
// State is 业务类型 (交易 or 退款), and a refund's RefundStatus is SUCCESS
// (the bill lists refunds once they complete).
//
// The sign Alipay gives a charged 服务费 is read from the file itself: per
// row from 实收净额 = 商家实收 + 服务费 (charged fees negative) or 商家实收 −
// 服务费 in the layouts with a 实收净额 column, else from the summary's
// totals the same way. A bare detail CSV whose fees cannot tell is read
// with charged fees negative, as the bills and the summaries that do tell
// print them. The *BillLine values stay valid after later calls to Next.
func OpenBill(name string, r io.Reader) (gateway.BillReader, error) {
	return Open(name, r, gateway.BillOptions{})
}

// OpenBillIn is OpenBill reading the bill's local times in zone (Alipay
// prints China Standard Time; a zone is configurable for tests and for
// clients configured with another one).
func OpenBillIn(name string, r io.Reader, zone *time.Location) (gateway.BillReader, error) {
	return Open(name, r, gateway.BillOptions{Zone: zone})
}

// Open is OpenBill holding the bill to opt: a bill of another merchant or
// another day, one that repeats a row, or one past opt.Limits is refused
// at the line that shows it. r read at random (an *os.File) lets a zip be
// read without holding it in memory.
func Open(name string, r io.Reader, opt gateway.BillOptions) (gateway.BillReader, error) {
	chk := gateway.NewBillCheck(opt)
	b := &billReader{file: name, zone: chk.Opt.Zone, BillCheck: chk, cSubj: -1, cNet2: -1}
	if err := b.openSource(name, r, tradeDetail); err != nil {
		return nil, err
	}
	if err := b.readHeader(); err != nil {
		b.close()
		return nil, err
	}
	return b, nil
}

func (b *billReader) fail(line int, kind error, format string, args ...any) error {
	b.close()
	return &gateway.BillError{File: b.file, Line: line, Err: fmt.Errorf("%w: %s", kind, fmt.Sprintf(format, args...))}
}

func (b *billReader) close() {
	if b.closer != nil {
		b.closer.Close()
		b.closer = nil
	}
}

// readLine returns the next line without its line ending, valid until the
// next call. io.EOF only when no byte is left.
func (b *billReader) readLine() ([]byte, error) {
	line, err := b.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		b.long = append(b.long[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = b.br.ReadSlice('\n')
			b.long = append(b.long, line...)
			if len(b.long) > maxLine {
				return nil, b.fail(b.line+1, ErrBillLayout, "line longer than %d bytes", maxLine)
			}
		}
		line = b.long
	}
	if err != nil && err != io.EOF {
		if errors.Is(err, gateway.ErrBillTooLarge) || errors.Is(err, ErrBillTruncated) {
			b.close()
			return nil, &gateway.BillError{File: b.file, Line: b.line + 1, Err: err}
		}
		return nil, b.fail(b.line+1, ErrBillTruncated, "reading: %v", err)
	}
	if len(line) == 0 && err == io.EOF {
		return nil, io.EOF
	}
	if b.line >= b.Opt.Limits.MaxLines {
		return nil, b.fail(b.line+1, gateway.ErrBillTooLarge, "more than %d lines", b.Opt.Limits.MaxLines)
	}
	b.line++
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// checkText decides the encoding on the first line with non-ASCII bytes
// and holds every later preamble line to it.
func (b *billReader) checkText(line []byte) error {
	if bytes.IndexByte(line, 0) >= 0 {
		return b.fail(b.line, ErrBillEncoding, "NUL byte (UTF-16 text?)")
	}
	if isASCIIBytes(line) {
		return nil
	}
	valid := utf8.Valid(line)
	switch b.enc {
	case encUnknown:
		if valid {
			b.enc = encUTF8
			return nil
		}
		if !validGBK(line) {
			return b.fail(b.line, ErrBillEncoding, "line is neither UTF-8 nor GBK")
		}
		b.enc = encGBK
	case encUTF8:
		if !valid {
			return b.fail(b.line, ErrBillEncoding, "line is not UTF-8 like the lines before it")
		}
	case encGBK:
		if !validGBK(line) {
			return b.fail(b.line, ErrBillEncoding, "line is not GBK like the lines before it")
		}
	}
	return nil
}

func validGBK(p []byte) bool {
	s, err := simplifiedchinese.GBK.NewDecoder().Bytes(p)
	return err == nil && !bytes.ContainsRune(s, utf8.RuneError)
}

func (b *billReader) decode(p []byte) string {
	if b.enc == encGBK && !isASCIIBytes(p) {
		s, _ := simplifiedchinese.GBK.NewDecoder().Bytes(p)
		return string(s)
	}
	return string(p)
}

// readHeader skips the #-preamble (title, account, date window, start
// marker), detecting the encoding, maps the header's columns, and holds the
// preamble to the options.
func (b *billReader) readHeader() error {
	header, err := b.headerLine("支付宝交易号,…")
	if err != nil {
		return err
	}
	if err := b.mapColumns(header); err != nil {
		return err
	}
	return b.checkPreamble()
}

// headerLine skips the #-preamble, detecting the encoding and taking the
// account and date window from it, and returns the header line decoded;
// first names the header's first columns for the message when there is
// none.
func (b *billReader) headerLine(first string) (string, error) {
	for {
		line, err := b.readLine()
		if err == io.EOF {
			if b.line == 0 {
				return "", b.fail(0, ErrBillTruncated, "empty file")
			}
			return "", b.fail(b.line, ErrBillTruncated, "no header line (%s) before the end of the file", first)
		}
		if err != nil {
			return "", err
		}
		if b.line == 1 {
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
		}
		if err := b.checkText(line); err != nil {
			return "", err
		}
		if len(bytes.TrimSpace(line)) == 0 || line[0] == '#' {
			if b.line > 1000 {
				return "", b.fail(b.line, ErrBillLayout, "no header line in the first 1000 lines")
			}
			if err := b.preambleLine(b.decode(line)); err != nil {
				return "", err
			}
			continue
		}
		if b.enc == encUnknown {
			b.enc = encUTF8 // all ASCII so far: the two encodings agree
		}
		return b.decode(line), nil
	}
}

func (b *billReader) mapColumns(header string) error {
	names := strings.Split(header, ",")
	idx := map[string]int{}
	for i, n := range names {
		n = strings.Trim(n, " \t")
		n = strings.NewReplacer("(", "（", ")", "）").Replace(n)
		if _, dup := idx[n]; dup && n != "" {
			return b.fail(b.line, ErrBillLayout, "column %s appears twice in the header", n)
		}
		idx[n] = i
	}
	var missing []string
	for _, c := range requiredColumns {
		if _, ok := idx[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return b.fail(b.line, ErrBillLayout, "header lacks column(s) %s (read as %s; header %q)", strings.Join(missing, ", "), b.enc, truncate(header, 120))
	}
	b.ncol, b.columns = len(names), names
	b.cTrade, b.cOut, b.cKind, b.cFin = idx[colTradeNo], idx[colOutTradeNo], idx[colKind], idx[colFinished]
	b.cAmt, b.cNet, b.cReq, b.cFee = idx[colAmount], idx[colNet], idx[colRequestNo], idx[colFee]
	if i, ok := idx[colSubject]; ok {
		b.cSubj = i
	}
	if i, ok := idx[colNetAfterFee]; ok {
		b.cNet2 = i
	}
	if b.summary != nil {
		b.sums = b.summary.columnsIn(idx)
	}
	if i, ok := idx[colRemark]; ok && i == len(names)-1 {
		b.extra = true
	}
	b.mk = markersFor(b.enc)
	b.commas = make([]int32, 0, b.ncol+8)
	b.subjects = map[string]string{}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// Next returns the next detail row. At the end of the file it checks the
// end marker and the stated totals and returns io.EOF only if they hold.
func (b *billReader) Next() (*gateway.BillLine, error) {
	if b.err != nil {
		return nil, b.err
	}
	for {
		line, err := b.readLine()
		if err == io.EOF {
			b.err = b.finish()
			b.close()
			return nil, b.err
		}
		if err != nil {
			b.err = err
			return nil, err
		}
		if len(line) == 0 {
			continue
		}
		if b.state == stRows {
			if line[0] == '#' {
				if bytes.Contains(line, b.mk.end) {
					b.state, b.endLine = stAfterEnd, b.line
					continue
				}
				b.err = b.fail(b.line, ErrBillLayout, "comment line inside the detail list: %q", truncate(b.decode(line), 80))
				return nil, b.err
			}
			l, err := b.parseRow(line)
			if err != nil {
				b.err = err
				return nil, err
			}
			b.last = line
			b.computed.Add(l)
			if l.Kind == gateway.LinePayment {
				b.paymentNet += l.Net
			} else {
				b.refNet += l.Net
			}
			b.rows++
			return l, nil
		}
		if line[0] != '#' {
			b.err = b.fail(b.line, ErrBillLayout, "data after the end marker (line %d)", b.endLine)
			return nil, b.err
		}
		var dst **statedTotal
		switch {
		case bytes.HasPrefix(line, b.mk.paySum):
			dst = &b.paySum
		case bytes.HasPrefix(line, b.mk.refSum):
			dst = &b.refSum
		default:
			continue // #导出时间 and other notes
		}
		if *dst != nil {
			b.err = b.fail(b.line, ErrBillLayout, "second totals line of the same kind (first at line %d)", (*dst).line)
			return nil, b.err
		}
		if err := b.checkText(line); err != nil {
			b.err = err
			return nil, err
		}
		st, err := parseTotals(b.decode(line))
		if err != nil {
			b.err = b.fail(b.line, ErrBillLayout, "%v", err)
			return nil, b.err
		}
		st.line = b.line
		*dst = st
	}
}

// parseTotals reads "#交易合计：6笔，商家实收共0.06元，商家优惠共0.00元" or
// "#退款合计：4笔，商家实收退款共-0.04元，…", and the older
// "#交易合计：4笔，交易金额共0.08元，优惠金额共0.00元".
func parseTotals(s string) (*statedTotal, error) {
	i := strings.IndexAny(s, "：:")
	if i < 0 {
		return nil, fmt.Errorf("totals line %q has no colon", truncate(s, 80))
	}
	_, size := utf8.DecodeRuneInString(s[i:])
	parts := strings.FieldsFunc(s[i+size:], func(r rune) bool { return r == '，' || r == ',' })
	if len(parts) == 0 {
		return nil, fmt.Errorf("totals line %q states nothing", truncate(s, 80))
	}
	st := &statedTotal{}
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(parts[0]), "笔"))
	if err != nil || n < 0 {
		return nil, fmt.Errorf("totals line %q: count %q is not N笔", truncate(s, 80), parts[0])
	}
	st.count = n
	for _, p := range parts[1:] {
		label, rest, ok := strings.Cut(strings.TrimSpace(p), "共")
		if !ok {
			continue
		}
		m, err := gateway.ParseMoney(strings.TrimSuffix(rest, "元"))
		if err != nil {
			return nil, fmt.Errorf("totals line %q: %s: %v", truncate(s, 80), label, err)
		}
		switch label {
		case "商家实收", "商家实收退款":
			st.net, st.hasNet = m, true
		case "交易金额", "交易退款金额":
			st.amount, st.hasAmount = m, true
		}
	}
	if !st.hasNet && !st.hasAmount {
		return nil, fmt.Errorf("totals line %q states no 商家实收 or 交易金额 amount", truncate(s, 80))
	}
	return st, nil
}

// finish runs at the end of the file: the end marker and both totals lines
// must be there, and the rows must add up to them.
func (b *billReader) finish() error {
	if r := b.Keys.Flush(); r != nil {
		return b.repeated(r)
	}
	if b.state != stAfterEnd {
		return b.fail(b.line, ErrBillTruncated, "the file ends at line %d inside the detail list, without the 业务明细列表结束 marker", b.line)
	}
	if b.paySum == nil || b.refSum == nil {
		return b.fail(b.line, ErrBillTruncated, "the file ends at line %d without its #交易合计 and #退款合计 lines", b.line)
	}
	c, p, r := b.computed, b.paySum, b.refSum
	switch {
	case p.count != c.Payments:
		return b.fail(p.line, ErrBillTotals, "bill states %d payments, the rows hold %d", p.count, c.Payments)
	case p.hasNet && p.net != b.paymentNet:
		return b.fail(p.line, ErrBillTotals, "bill states 商家实收 %s for payments, the rows add up to %s", p.net, b.paymentNet)
	case p.hasAmount && p.amount != c.PaymentAmount:
		return b.fail(p.line, ErrBillTotals, "bill states 交易金额 %s, the rows add up to %s", p.amount, c.PaymentAmount)
	case r.count != c.Refunds:
		return b.fail(r.line, ErrBillTotals, "bill states %d refunds, the rows hold %d", r.count, c.Refunds)
	case r.hasNet && r.net != b.refNet:
		return b.fail(r.line, ErrBillTotals, "bill states 商家实收退款 %s, the rows add up to %s", r.net, b.refNet)
	case r.hasAmount && abs(r.amount) != c.RefundAmount:
		return b.fail(r.line, ErrBillTotals, "bill states 交易退款金额 %s, the rows add up to %s", abs(r.amount), c.RefundAmount)
	}
	if err := b.checkSummary(); err != nil {
		return err
	}
	b.stated = gateway.BillTotals{Payments: p.count, Refunds: r.count}
	if b.summary != nil {
		// The summary states the fees; in BillLine's convention (positive
		// when charged) by the sign the file prints them with.
		b.stated.Fees = b.summary.figures[colFee]
		if b.feeSign < 0 {
			b.stated.Fees = -b.stated.Fees
		}
	}
	if p.hasAmount {
		b.stated.PaymentAmount = p.amount
	}
	if r.hasAmount {
		b.stated.RefundAmount = abs(r.amount)
	}
	if p.hasNet && r.hasNet {
		b.stated.Net = p.net + r.net
	}
	return io.EOF
}

func abs(m gateway.Money) gateway.Money {
	if m < 0 {
		return -m
	}
	return m
}

// Stated returns the totals the bill states: counts always; Net when both
// lines state 商家实收; PaymentAmount and RefundAmount only in the older
// layout that states 交易金额; Fees from the summary file of a zip (the
// detail file states none).
func (b *billReader) Stated() gateway.BillTotals { return b.stated }

// Computed returns the totals of the rows read so far.
func (b *billReader) Computed() gateway.BillTotals { return b.computed }

// parseRow reads one detail row. It splits and compares raw bytes, keeps
// the text of many rows in one block of memory (strings point into it and
// it is never written again), reuses the decoded text of subjects seen
// before, and fills its line in a ring (gateway.LineRing) the caller copies
// from: a million-row GBK bill is read at over a million rows a second.
func (b *billReader) parseRow(line []byte) (*gateway.BillLine, error) {
	b.commas = commaPositions(b.commas[:0], line)
	f := fieldsOf{line, b.commas}
	if n := len(b.commas) + 1; n < b.ncol || (n > b.ncol && !b.extra) {
		return nil, b.fail(b.line, ErrBillRow, "%d fields, the header has %d", n, b.ncol)
	}
	kindField := trimField(f.at(b.cKind))
	var kind gateway.LineKind
	var state string
	switch {
	case bytes.Equal(kindField, b.mk.payment):
		kind, state = gateway.LinePayment, kindPayment
	case bytes.Equal(kindField, b.mk.refund):
		kind, state = gateway.LineRefund, kindRefund
	default:
		if _, err := b.appendText(nil, kindField, colKind); err != nil {
			return nil, err // the row is in another encoding than the header
		}
		return nil, b.fail(b.line, ErrBillRow, "业务类型 %q is neither 交易 nor 退款", truncate(b.decode(kindField), 40))
	}
	amount, err := b.money(f.at(b.cAmt), colAmount)
	if err != nil {
		return nil, err
	}
	net, err := b.money(f.at(b.cNet), colNet)
	if err != nil {
		return nil, err
	}
	fee, err := b.money(f.at(b.cFee), colFee)
	if err != nil {
		return nil, err
	}
	// Refund rows print negative amounts; a sign the other way is a row
	// this reader does not understand, not one to guess about.
	if kind == gateway.LinePayment && (amount < 0 || net < 0) {
		return nil, b.fail(b.line, ErrBillRow, "payment row with a negative amount (%s, %s)", amount, net)
	}
	if kind == gateway.LineRefund && (amount > 0 || net > 0) {
		return nil, b.fail(b.line, ErrBillRow, "refund row with a positive amount (%s, %s)", amount, net)
	}
	at, ok := b.times.parse(trimField(f.at(b.cFin)), b.zone)
	if !ok {
		return nil, b.fail(b.line, ErrBillRow, "完成时间 %q is not yyyy-MM-dd HH:mm:ss", truncate(b.decode(trimField(f.at(b.cFin))), 40))
	}
	if !b.OnDay(at) {
		return nil, b.fail(b.line, gateway.ErrBillDay, "完成时间 %s is not on the business day %s: a row of another day's bill",
			at.Format(time.DateTime), b.DayStart.Format(time.DateOnly))
	}
	if b.cNet2 >= 0 {
		if err := b.feeSignOf(f, net, fee); err != nil {
			return nil, err
		}
	}
	for i := range b.sums {
		c := &b.sums[i]
		switch c.col {
		case b.cAmt:
			c.total += amount
		case b.cNet:
			c.total += net
		case b.cFee:
			c.total += fee
		default:
			v, err := b.money(f.at(c.col), c.name)
			if err != nil {
				return nil, err
			}
			c.total += v
		}
	}
	if b.feeSign < 0 {
		fee = -fee
	}

	trade, out := trimField(f.at(b.cTrade)), trimField(f.at(b.cOut))
	var req, subj []byte
	if kind == gateway.LineRefund {
		req = trimField(f.at(b.cReq))
	}
	if b.cSubj >= 0 {
		subj = trimField(f.at(b.cSubj))
	}
	if len(trade) == 0 {
		return nil, b.fail(b.line, ErrBillRow, "支付宝交易号 is empty")
	}
	// Room for the row's text in the arena, decoded: a GBK byte never
	// becomes more than 3 bytes of UTF-8.
	need := 3*(len(trade)+len(out)+len(req)+len(subj)) + 16
	if cap(b.arena)-len(b.arena) < need {
		b.arena = b.block(need)
	}
	t := b.arena
	base := len(t)
	var ends [3]int
	if t, err = b.appendText(t, trade, colTradeNo); err != nil {
		return nil, err
	}
	ends[0] = len(t)
	if t, err = b.appendText(t, out, colOutTradeNo); err != nil {
		return nil, err
	}
	ends[1] = len(t)
	if t, err = b.appendText(t, req, colRequestNo); err != nil {
		return nil, err
	}
	ends[2] = len(t)
	var s string
	if len(t) > base {
		s = unsafe.String(&t[base], len(t)-base)
	}
	subject, ok := b.subjects[string(subj)] // no allocation for the lookup
	if !ok && len(subj) > 0 {
		start := len(t)
		if t, err = b.appendText(t, subj, colSubject); err != nil {
			return nil, err
		}
		subject = unsafe.String(&t[start], len(t)-start)
		if len(b.subjects) < 4096 { // product names repeat; a bill of unique ones stops caching
			b.subjects[string(subj)] = strings.Clone(subject) // the arena's block may be written over
		}
	}
	b.arena = t

	l := b.ring.Take()
	*l = gateway.BillLine{
		Line:         b.line,
		Kind:         kind,
		TradeNo:      s[:ends[0]-base],
		OutTradeNo:   s[ends[0]-base : ends[1]-base],
		OutRequestNo: s[ends[1]-base : ends[2]-base],
		Subject:      subject,
		Amount:       abs(amount),
		Net:          net,
		Fee:          fee,
		Time:         at,
		State:        state,
	}
	if kind == gateway.LineRefund {
		l.RefundStatus = gateway.RefundSuccess
	}
	if r := b.Keys.Add(l, state); r != nil {
		return nil, b.repeated(r)
	}
	return l, nil
}

// repeated refuses a row that repeats an earlier one, at its own line.
func (b *billReader) repeated(r *gateway.KeyRepeat) error {
	req := ""
	if r.Line.OutRequestNo != "" {
		req = ", request " + r.Line.OutRequestNo
	}
	return b.fail(r.Line.Line, gateway.ErrBillRepeated, "%s %s of trade %s%s is on line %d already", r.Business, r.Line.Amount, r.Line.TradeNo, req, r.First)
}

// feeSignOf reads a row's 实收净额: 商家实收 + 服务费 means the file prints a
// charged fee negative, 商家实收 − 服务费 positive. Every row that tells must
// tell the same.
func (b *billReader) feeSignOf(f fieldsOf, net, fee gateway.Money) error {
	n2, err := b.money(f.at(b.cNet2), colNetAfterFee)
	if err != nil {
		return err
	}
	sign := 0
	switch {
	case fee == 0 && n2 == net:
		return nil
	case n2 == net+fee:
		sign = -1
	case n2 == net-fee:
		sign = 1
	default:
		return b.fail(b.line, ErrBillRow, "%s %s is neither %s %s + %s %s nor their difference", colNetAfterFee, n2, colNet, net, colFee, fee)
	}
	switch b.feeSign {
	case 0:
		b.feeSign, b.feeSignLine, b.feeFrom = sign, b.line, b.file
	case sign:
	default:
		return b.fail(b.line, ErrBillRow, "%s prints 服务费 with the opposite sign to line %d of %s", colNetAfterFee, b.feeSignLine, b.feeFrom)
	}
	return nil
}

// commaPositions appends the offsets of line's commas to pos. It looks at
// eight bytes at a time: x has a zero byte exactly where line has a comma,
// and the expression for m (exact, unlike the shorter (x-0x01..)&^x form,
// which also flags a '-' right after a comma) sets the top bit of exactly
// those bytes.
func commaPositions(pos []int32, line []byte) []int32 {
	const ones7 = 0x7F7F7F7F7F7F7F7F
	i := 0
	for ; i+8 <= len(line); i += 8 {
		x := binary.LittleEndian.Uint64(line[i:]) ^ 0x2C2C2C2C2C2C2C2C
		m := ^(((x & ones7) + ones7) | x | ones7)
		for m != 0 {
			pos = append(pos, int32(i+bits.TrailingZeros64(m)>>3))
			m &= m - 1
		}
	}
	for ; i < len(line); i++ {
		if line[i] == ',' {
			pos = append(pos, int32(i))
		}
	}
	return pos
}

// fieldsOf reads the fields of a line split at its comma positions.
type fieldsOf struct {
	line   []byte
	commas []int32
}

// at returns field i (which the caller knows exists).
func (f fieldsOf) at(i int) []byte {
	start := 0
	if i > 0 {
		start = int(f.commas[i-1]) + 1
	}
	end := len(f.line)
	if i < len(f.commas) {
		end = int(f.commas[i])
	}
	return f.line[start:end]
}

// trimField drops the literal TAB Alipay appends to many fields, and spaces.
func trimField(p []byte) []byte {
	for len(p) > 0 && (p[len(p)-1] == '\t' || p[len(p)-1] == ' ') {
		p = p[:len(p)-1]
	}
	for len(p) > 0 && (p[0] == ' ' || p[0] == '\t') {
		p = p[1:]
	}
	return p
}

func (b *billReader) money(field []byte, col string) (gateway.Money, error) {
	p := trimField(field)
	if len(p) == 0 {
		return 0, b.fail(b.line, ErrBillRow, "%s is empty", col)
	}
	// ParseMoney neither keeps its argument nor lets it escape (its error
	// message is a fresh string), so a string header over the line's bytes
	// is safe and spares an allocation per amount.
	m, err := gateway.ParseMoney(unsafe.String(&p[0], len(p)))
	if err != nil {
		return 0, b.fail(b.line, ErrBillRow, "%s: %v", col, err)
	}
	return m, nil
}

// textBlock is a block of the arena written to its end.
type textBlock struct {
	b    []byte
	last int // the last row that may hold a string in b
}

// block is an empty arena block of at least n bytes. With Opt.TextRows
// set it is the oldest block whose rows were all handed out TextRows rows
// ago, when there is one: a day's rows then write over the same few
// megabytes instead of leaving their text to the collector.
func (b *billReader) block(n int) []byte {
	if keep := b.Opt.TextRows; keep > 0 && cap(b.arena) > 0 {
		// The row being read may have text in the block it leaves.
		b.filled = append(b.filled, textBlock{b.arena[:0], b.rows + 1})
		if old := b.filled[0]; old.last+keep <= b.rows && cap(old.b) >= n {
			b.filled = b.filled[1:]
			return old.b
		}
	}
	return make([]byte, 0, max(64<<10, n))
}

// appendText appends a field as UTF-8, decoding GBK.
func (b *billReader) appendText(dst, p []byte, col string) ([]byte, error) {
	if isASCIIBytes(p) {
		return append(dst, p...), nil
	}
	if b.enc == encUTF8 {
		if !utf8.Valid(p) {
			return nil, b.fail(b.line, ErrBillEncoding, "%s is not UTF-8 like the header", col)
		}
		return append(dst, p...), nil
	}
	if b.gbk == nil {
		b.gbk = simplifiedchinese.GBK.NewDecoder()
	}
	b.gbk.Reset()
	start := len(dst)
	// A GBK byte never becomes more than 3 bytes of UTF-8, so with this
	// much room one Transform call always finishes. parseRow reserves it
	// in its arena; other callers pass nil.
	if need := len(dst) + 3*len(p) + 4; cap(dst) < need {
		grown := make([]byte, len(dst), need)
		copy(grown, dst)
		dst = grown
	}
	nDst, nSrc, err := b.gbk.Transform(dst[len(dst):cap(dst)], p, true)
	if err != nil || nSrc != len(p) {
		return nil, b.fail(b.line, ErrBillEncoding, "%s is not GBK like the header", col)
	}
	dst = dst[:len(dst)+nDst]
	if bytes.ContainsRune(dst[start:], utf8.RuneError) {
		return nil, b.fail(b.line, ErrBillEncoding, "%s is not GBK like the header", col)
	}
	return dst, nil
}

func isASCIIBytes(p []byte) bool {
	for _, c := range p {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// timeCache remembers the start of the hour of the last time read: rows
// come in time order, and time.Date (a zone lookup) is then needed once an
// hour instead of once a row. Adding minutes and seconds within an hour is
// exact even in zones with daylight saving, whose changes fall on hours.
type timeCache struct {
	prefix [13]byte // "2006-01-02 15"
	hour   time.Time
	valid  bool
}

func (c *timeCache) parse(p []byte, zone *time.Location) (time.Time, bool) {
	if len(p) == 19 && c.valid && string(p[:13]) == string(c.prefix[:]) &&
		p[13] == ':' && p[16] == ':' && isDigit(p[14]) && isDigit(p[15]) && isDigit(p[17]) && isDigit(p[18]) {
		mi := int(p[14]-'0')*10 + int(p[15]-'0')
		s := int(p[17]-'0')*10 + int(p[18]-'0')
		if mi <= 59 && s <= 59 {
			return c.hour.Add(time.Duration(mi)*time.Minute + time.Duration(s)*time.Second), true
		}
	}
	t, ok := parseBillTime(p, zone)
	if !ok {
		return t, false
	}
	copy(c.prefix[:], p[:13])
	c.hour = t.Truncate(time.Hour)
	if c.hour.Minute() != 0 { // zones a half hour off UTC: truncate in local terms
		c.hour = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), 0, 0, 0, zone)
	}
	c.valid = true
	return t, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// parseBillTime reads "2006-01-02 15:04:05" without allocating.
func parseBillTime(p []byte, zone *time.Location) (time.Time, bool) {
	if len(p) != 19 || p[4] != '-' || p[7] != '-' || p[10] != ' ' || p[13] != ':' || p[16] != ':' {
		return time.Time{}, false
	}
	num := func(p []byte) (int, bool) {
		n := 0
		for _, c := range p {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	y, ok1 := num(p[0:4])
	mo, ok2 := num(p[5:7])
	d, ok3 := num(p[8:10])
	h, ok4 := num(p[11:13])
	mi, ok5 := num(p[14:16])
	s, ok6 := num(p[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, s, 0, zone)
	if t.Day() != d { // 2024-02-30 would roll over into March
		return time.Time{}, false
	}
	return t, true
}

// OpenBill is the package's OpenBill reading times in the client's zone.
func (c *Client) OpenBill(name string, r io.Reader) (gateway.BillReader, error) {
	return OpenBillIn(name, r, c.zone)
}
