package alipay

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/paydesk/paydesk/gateway"
)

// Header names of the Alipay 账务明细 (bill_type=signcustomer) columns the
// parser reads. The layout documented since 2012 has twelve columns; newer
// files add 业务描述, 业务账单来源, 业务基础订单号, 业务订单号 and may order them
// differently, so columns are found by name (parentheses made full-width).
const (
	fundColFlowNo    = "账务流水号"
	fundColBizNo     = "业务流水号"
	fundColOutTrade  = "商户订单号"
	fundColTime      = "发生时间"
	fundColIncome    = "收入金额（+元）"
	fundColExpense   = "支出金额（-元）"
	fundColBalance   = "账户余额（元）"
	fundColType      = "业务类型"
	fundColRemark    = "备注"
	fundMarkEnd      = "账务明细列表结束"
	fundMarkIncome   = "#收入合计"
	fundMarkExpense  = "#支出合计"
	fundHeaderFirsts = "账务流水号,业务流水号,…"
)

var fundRequired = []string{fundColFlowNo, fundColBizNo, fundColOutTrade, fundColTime, fundColIncome, fundColExpense, fundColType}

// Alipay's fund bill is read by OpenFundBill.
func init() {
	gateway.RegisterBillFormat(gateway.BillFormat{Channel: gateway.Alipay, Kind: gateway.FundBill, OpenFunds: OpenFundBill})
}

// OpenFundBill reads an Alipay 账务明细 (the fund bill, bill_type
// signcustomer): the zip as downloaded (its …_账务明细.csv entry, read where
// it lies when r is an *os.File; the (汇总) summary is not read) or the
// detail CSV alone, in GBK or UTF-8 (detected). Each row becomes one
// gateway.FundLine:
//
//   - Amount is 收入金额 for money in and −支出金额 for money out (the 支出
//     column prints the amount negative in current files and positive in
//     older ones; either reads as money out); a row with both is refused;
//   - Kind from 业务类型: 在线支付, 交易付款, 交易 and 收款 are FundPayment; 交易退款
//     and 退款 FundRefund; 收费 and any type naming 服务费 or 手续费 FundFee
//     (服务费退回 coming back on a refund); 提现 and 结算 FundWithdrawal; the
//     rest (转账, 其它, …) FundOther;
//   - TradeNo is 业务流水号 (the 支付宝交易号 of the business), except that a
//     fee row names its trade in 备注 (服务费[2015…879], 服务费退回(…)) and
//     that number wins; OutTradeNo is 商户订单号; FlowNo is 账务流水号.
//
// The bill is held to opt as a trade bill is (see Open): its #账号 to the
// merchant, its date window and every row's 发生时间 to the day, no
// movement twice (gateway.BillKeys.AddMovement), and opt.Limits. After the
// rows, the end marker and the #收入合计 / #支出合计 lines must be there and
// agree with the rows before Next returns io.EOF. A trade bill (业务明细) is
// refused as not a fund bill. Every error is a *gateway.BillError naming
// the file and line.
func OpenFundBill(name string, r io.Reader, opt gateway.BillOptions) (gateway.FundReader, error) {
	chk := gateway.NewBillCheck(opt)
	f := &fundReader{b: billReader{file: name, zone: chk.Opt.Zone, BillCheck: chk, cSubj: -1, cNet2: -1}}
	b := &f.b
	if err := b.openSource(name, r, fundDetail); err != nil {
		return nil, err
	}
	header, err := b.headerLine(fundHeaderFirsts)
	if err != nil {
		b.close()
		return nil, err
	}
	if err := f.mapFundColumns(header); err != nil {
		b.close()
		return nil, err
	}
	if err := b.checkPreamble(); err != nil {
		b.close()
		return nil, err
	}
	return f, nil
}

// fundReader streams a 账务明细. It reads lines, detects the encoding and
// opens zips with the trade bill reader's machinery (b), which it uses for
// nothing else.
type fundReader struct {
	b     billReader
	ncol  int
	extra bool // 备注 is the last column and may hold commas
	c     struct{ flow, biz, out, at, in, out2, bal, typ, remark int }

	types map[string]fundType // 业务类型 bytes (in the file's encoding) → decoded
	texts map[string]string   // remarks seen, decoded (they repeat)
	// feeMarks are the prefixes of a fee row's remark (服务费[, 服务费退回()
	// in the file's encoding: such a remark is unique to its trade, and is
	// put together without decoding or caching it.
	feeMarks [][2]string
	ring     gateway.FundLineRing // the rows handed out
	sums     gateway.FundTotals
	income   *statedTotal
	spent    *statedTotal
	stated   gateway.FundTotals
	ended    bool
	endAt    int
}

type fundType struct {
	name string
	kind gateway.FundKind
}

func (f *fundReader) mapFundColumns(header string) error {
	b := &f.b
	names := strings.Split(header, ",")
	idx := map[string]int{}
	for i, n := range names {
		n = strings.NewReplacer("(", "（", ")", "）").Replace(strings.Trim(n, " \t"))
		if _, dup := idx[n]; dup && n != "" {
			return b.fail(b.line, ErrBillLayout, "column %s appears twice in the header", n)
		}
		idx[n] = i
	}
	if _, trade := idx[colTradeNo]; trade {
		return b.fail(b.line, ErrBillLayout, "not a fund bill: this is a trade bill (业务明细, header has %s); reconcile it with recon run", colTradeNo)
	}
	var missing []string
	for _, c := range fundRequired {
		if _, ok := idx[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return b.fail(b.line, ErrBillLayout, "header lacks column(s) %s: not an Alipay 账务明细 (read as %s; header %q)",
			strings.Join(missing, ", "), b.enc, truncate(header, 120))
	}
	opt := func(n string) int {
		if i, ok := idx[n]; ok {
			return i
		}
		return -1
	}
	f.ncol = len(names)
	b.ncol, b.columns = len(names), names
	f.c.flow, f.c.biz, f.c.out, f.c.at = idx[fundColFlowNo], idx[fundColBizNo], idx[fundColOutTrade], idx[fundColTime]
	f.c.in, f.c.out2, f.c.typ = idx[fundColIncome], idx[fundColExpense], idx[fundColType]
	f.c.bal, f.c.remark = opt(fundColBalance), opt(fundColRemark)
	f.extra = f.c.remark == len(names)-1
	b.extra = f.extra
	b.mk = markersFor(b.enc)
	b.commas = make([]int32, 0, f.ncol+8)
	f.types, f.texts = map[string]fundType{}, map[string]string{}
	for _, p := range []string{"服务费[", "服务费退回("} {
		raw := p
		if b.enc == encGBK {
			g, err := simplifiedchinese.GBK.NewEncoder().String(p)
			if err != nil {
				panic(err) // fixed text GBK has
			}
			raw = g
		}
		f.feeMarks = append(f.feeMarks, [2]string{raw, p})
	}
	return nil
}

// Next returns the next movement; at the end of the file it checks the end
// marker and the stated totals and returns io.EOF only if they hold.
func (f *fundReader) Next() (*gateway.FundLine, error) {
	b := &f.b
	if b.err != nil {
		return nil, b.err
	}
	for {
		line, err := b.readLine()
		if err == io.EOF {
			b.err = f.finish()
			b.close()
			return nil, b.err
		}
		if err != nil {
			b.err = err
			return nil, err
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if !f.ended {
			if line[0] == '#' {
				if err := b.checkText(line); err != nil {
					b.err = err
					return nil, err
				}
				if strings.Contains(b.decode(line), fundMarkEnd) {
					f.ended, f.endAt = true, b.line
					continue
				}
				b.err = b.fail(b.line, ErrBillLayout, "comment line inside the movement list: %q", truncate(b.decode(line), 80))
				return nil, b.err
			}
			l, err := f.row(line)
			if err != nil {
				b.err = err
				return nil, err
			}
			b.last = line
			f.sums.Add(l)
			b.rows++
			return l, nil
		}
		if line[0] != '#' {
			b.err = b.fail(b.line, ErrBillLayout, "data after the end marker (line %d)", f.endAt)
			return nil, b.err
		}
		if err := b.checkText(line); err != nil {
			b.err = err
			return nil, err
		}
		// Totals lines may carry the empty cells of the columns after them
		// (",,,,,,,"), as files saved from a spreadsheet do.
		text := strings.TrimRight(b.decode(line), ", \t")
		var dst **statedTotal
		switch {
		case strings.HasPrefix(text, fundMarkIncome):
			dst = &f.income
		case strings.HasPrefix(text, fundMarkExpense):
			dst = &f.spent
		default:
			continue // #导出时间 and other notes
		}
		if *dst != nil {
			b.err = b.fail(b.line, ErrBillLayout, "second totals line of the same kind (first at line %d)", (*dst).line)
			return nil, b.err
		}
		st, err := parseFundTotal(text)
		if err != nil {
			b.err = b.fail(b.line, ErrBillLayout, "%v", err)
			return nil, b.err
		}
		st.line = b.line
		*dst = st
	}
}

func (f *fundReader) row(line []byte) (*gateway.FundLine, error) {
	b := &f.b
	b.commas = commaPositions(b.commas[:0], line)
	v := fieldsOf{line, b.commas}
	if n := len(b.commas) + 1; n < f.ncol || (n > f.ncol && !f.extra) {
		return nil, b.fail(b.line, ErrBillRow, "%d fields, the header has %d", n, f.ncol)
	}
	in, err := f.amount(v.at(f.c.in), fundColIncome)
	if err != nil {
		return nil, err
	}
	out, err := f.amount(v.at(f.c.out2), fundColExpense)
	if err != nil {
		return nil, err
	}
	if in < 0 {
		return nil, b.fail(b.line, ErrBillRow, "%s is negative (%s)", fundColIncome, in)
	}
	if in != 0 && out != 0 {
		return nil, b.fail(b.line, ErrBillRow, "both %s (%s) and %s (%s) on one row", fundColIncome, in, fundColExpense, out)
	}
	amount := in
	if out != 0 {
		amount = -abs(out)
	}
	at, ok := b.times.parse(trimField(v.at(f.c.at)), b.zone)
	if !ok {
		return nil, b.fail(b.line, ErrBillRow, "发生时间 %q is not yyyy-MM-dd HH:mm:ss", truncate(b.decode(trimField(v.at(f.c.at))), 40))
	}
	if !b.OnDay(at) {
		return nil, b.fail(b.line, gateway.ErrBillDay, "发生时间 %s is not on the business day %s: a movement of another day's bill",
			at.Format(time.DateTime), b.DayStart.Format(time.DateOnly))
	}
	typ, err := f.fundType(trimField(v.at(f.c.typ)), amount)
	if err != nil {
		return nil, err
	}
	l := f.ring.Take()
	*l = gateway.FundLine{Line: b.line, Kind: typ.kind, Amount: amount, Time: at, Type: typ.name}
	if f.c.bal >= 0 {
		if p := trimField(v.at(f.c.bal)); len(p) > 0 {
			if l.Balance, err = f.amount(p, fundColBalance); err != nil {
				return nil, err
			}
		}
	}
	if l.FlowNo, err = f.text(trimField(v.at(f.c.flow)), fundColFlowNo); err != nil {
		return nil, err
	}
	if l.TradeNo, err = f.text(trimField(v.at(f.c.biz)), fundColBizNo); err != nil {
		return nil, err
	}
	if l.OutTradeNo, err = f.text(trimField(v.at(f.c.out)), fundColOutTrade); err != nil {
		return nil, err
	}
	if f.c.remark >= 0 {
		raw := v.at(f.c.remark)
		if i := f.c.remark; f.extra && i > 0 {
			raw = line[int(b.commas[i-1])+1:] // 备注 is last: everything after its comma
		}
		raw = trimField(raw)
		if s, ok := f.feeRemark(raw); ok {
			l.Remark = s
		} else if s, ok := f.texts[string(raw)]; ok {
			l.Remark = s
		} else {
			if err := b.checkText(raw); err != nil {
				return nil, err
			}
			l.Remark = b.decode(raw)
			if len(f.texts) < 4096 {
				f.texts[l.Remark] = l.Remark
				f.texts[string(raw)] = l.Remark
			}
		}
		if l.Kind == gateway.FundFee {
			if no := bracketed(l.Remark); no != "" {
				l.TradeNo = no
			}
		}
	}
	if r := b.Keys.AddMovement(l); r != nil {
		return nil, f.repeated(r)
	}
	return l, nil
}

// repeated refuses a movement an earlier row already booked (its
// key, see gateway.BillKeys.AddMovement), at its own line.
func (f *fundReader) repeated(r *gateway.KeyRepeat) error {
	return f.b.fail(r.Movement.Line, gateway.ErrBillRepeated, "movement %s is on line %d already", r.MovementText(fundColFlowNo), r.First)
}

// Account returns the #账号 the bill states, empty when it states none.
func (f *fundReader) Account() string { return f.b.account }

// feeRemark reads 服务费[…] and 服务费退回(…) remarks whose number is ASCII
// without decoding them, into the arena.
func (f *fundReader) feeRemark(raw []byte) (string, bool) {
	for _, m := range f.feeMarks {
		if len(raw) > len(m[0]) && string(raw[:len(m[0])]) == m[0] && isASCIIBytes(raw[len(m[0]):]) {
			return f.keep(m[1], raw[len(m[0]):]), true
		}
	}
	return "", false
}

// amount parses a money cell; an empty cell is zero.
func (f *fundReader) amount(field []byte, col string) (gateway.Money, error) {
	p := trimField(field)
	if len(p) == 0 {
		return 0, nil
	}
	return f.b.money(p, col)
}

// text keeps an ASCII number cell (an account number is never anything
// else) in the arena; other text is decoded.
func (f *fundReader) text(p []byte, col string) (string, error) {
	if len(p) == 0 {
		return "", nil
	}
	if !isASCIIBytes(p) {
		if err := f.b.checkText(p); err != nil {
			return "", err
		}
		return f.b.decode(p), nil
	}
	return f.keep("", p), nil
}

// keep returns head followed by p as a string in the arena: a row's
// strings share 64 KB blocks instead of being an allocation each.
func (f *fundReader) keep(head string, p []byte) string {
	b := &f.b
	n := len(head) + len(p)
	if cap(b.arena)-len(b.arena) < n {
		b.arena = b.block(n)
	}
	start := len(b.arena)
	b.arena = append(append(b.arena, head...), p...)
	return unsafe.String(&b.arena[start], n)
}

// fundType decodes 业务类型 once per distinct value and says what it is for.
func (f *fundReader) fundType(p []byte, amount gateway.Money) (fundType, error) {
	if t, ok := f.types[string(p)]; ok { // no allocation for the lookup
		return t.forAmount(amount), nil
	}
	if err := f.b.checkText(p); err != nil {
		return fundType{}, err
	}
	name := f.b.decode(p)
	if name == "" {
		return fundType{}, f.b.fail(f.b.line, ErrBillRow, "%s is empty", fundColType)
	}
	t := fundType{name: name, kind: fundKind(name)}
	f.types[string(p)] = t
	return t.forAmount(amount), nil
}

// forAmount keeps a payment type for money in: money out under a payment's
// name is not a payment.
func (t fundType) forAmount(amount gateway.Money) fundType {
	if t.kind == gateway.FundPayment && amount < 0 {
		t.kind = gateway.FundOther
	}
	return t
}

func fundKind(name string) gateway.FundKind {
	switch {
	case strings.Contains(name, "服务费") || strings.Contains(name, "手续费") || name == "收费":
		return gateway.FundFee
	case strings.Contains(name, "退款"):
		return gateway.FundRefund
	case strings.Contains(name, "提现") || name == "结算":
		return gateway.FundWithdrawal
	case name == "在线支付" || name == "交易付款" || name == "交易" || name == "收款":
		return gateway.FundPayment
	}
	return gateway.FundOther
}

// bracketed returns the number in 服务费[…] or 服务费退回(…), when the text
// holds one of ASCII letters and digits.
func bracketed(s string) string {
	i := strings.IndexAny(s, "[(（【")
	if i < 0 {
		return ""
	}
	_, size := utf8.DecodeRuneInString(s[i:])
	rest := s[i+size:]
	j := strings.IndexAny(rest, "])）】")
	if j <= 0 {
		return ""
	}
	no := rest[:j]
	for _, c := range []byte(no) {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_' || c == '-') {
			return ""
		}
	}
	return no
}

// parseFundTotal reads "#收入合计：18笔，共14989.00元" or
// "#支出合计：75171笔，共-540182.61元".
func parseFundTotal(s string) (*statedTotal, error) {
	i := strings.IndexAny(s, "：:")
	if i < 0 {
		return nil, fmt.Errorf("totals line %q has no colon", truncate(s, 80))
	}
	_, size := utf8.DecodeRuneInString(s[i:])
	count, amount, ok := strings.Cut(s[i+size:], "笔")
	n, err := strconv.Atoi(strings.TrimSpace(count))
	if !ok || err != nil || n < 0 {
		return nil, fmt.Errorf("totals line %q: want N笔，共X元", truncate(s, 80))
	}
	amount = strings.TrimLeft(amount, "，, ")
	amount, ok = strings.CutPrefix(amount, "共")
	amount, ok2 := strings.CutSuffix(strings.TrimSpace(amount), "元")
	if !ok || !ok2 {
		return nil, fmt.Errorf("totals line %q: want N笔，共X元", truncate(s, 80))
	}
	m, err := gateway.ParseMoney(amount)
	if err != nil {
		return nil, fmt.Errorf("totals line %q: %v", truncate(s, 80), err)
	}
	return &statedTotal{count: n, amount: m, hasAmount: true}, nil
}

// finish checks the end marker and both totals lines against the rows.
func (f *fundReader) finish() error {
	b := &f.b
	if r := b.Keys.Flush(); r != nil {
		return f.repeated(r)
	}
	if !f.ended {
		return b.fail(b.line, ErrBillTruncated, "the file ends at line %d inside the movement list, without the 账务明细列表结束 marker", b.line)
	}
	if f.income == nil || f.spent == nil {
		return b.fail(b.line, ErrBillTruncated, "the file ends at line %d without its #收入合计 and #支出合计 lines", b.line)
	}
	c, in, out := f.sums, f.income, f.spent
	switch {
	case in.count != c.Income:
		return b.fail(in.line, ErrBillTotals, "bill states %d movements in, the rows hold %d", in.count, c.Income)
	case abs(in.amount) != c.IncomeAmount:
		return b.fail(in.line, ErrBillTotals, "bill states %s in, the rows add up to %s", abs(in.amount), c.IncomeAmount)
	case out.count != c.Expense:
		return b.fail(out.line, ErrBillTotals, "bill states %d movements out, the rows hold %d", out.count, c.Expense)
	case abs(out.amount) != c.ExpenseAmount:
		return b.fail(out.line, ErrBillTotals, "bill states %s out, the rows add up to %s", abs(out.amount), c.ExpenseAmount)
	}
	f.stated = gateway.FundTotals{Income: in.count, IncomeAmount: abs(in.amount), Expense: out.count, ExpenseAmount: abs(out.amount)}
	return io.EOF
}

// LineText is the row Next returned last, as the file holds it (see the
// trade bill's).
func (f *fundReader) LineText() gateway.LineText { return f.b.LineText() }

// Stated returns the totals the bill states (valid after io.EOF, when they
// equal Computed).
func (f *fundReader) Stated() gateway.FundTotals { return f.stated }

// Computed returns the totals of the rows read so far.
func (f *fundReader) Computed() gateway.FundTotals { return f.sums }
