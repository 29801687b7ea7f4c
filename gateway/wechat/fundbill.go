package wechat

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paydesk/paydesk/gateway"
)

// Column names of the WeChat Pay fund-flow bill (资金账单: /v3/bill/fundflowbill
// and v2 downloadfundflow). The APIv3 bill prints ASCII parentheses
// (收支金额(元)); the v2 documentation's layout prints full-width ones
// (收支金额（元）) and, in its earliest form, no 业务凭证号. Names are compared
// with parentheses made full-width, and columns are found by name.
const (
	fundColTime     = "记账时间"
	fundColBizNo    = "微信支付业务单号"
	fundColFlowNo   = "资金流水单号"
	fundColBizName  = "业务名称"
	fundColBizType  = "业务类型"
	fundColDir      = "收支类型"
	fundColAmount   = "收支金额（元）"
	fundColBalance  = "账户结余（元）"
	fundColProposer = "资金变更提交申请人"
	fundColRemark   = "备注"
	fundColVoucher  = "业务凭证号"

	fundSummaryFirst = "资金流水总笔数"
)

// fundSummary are the figures of the summary row, by title.
var fundSummary = map[string]int{
	"资金流水总笔数": 0,
	"收入笔数":    1,
	"收入金额":    2,
	"支出笔数":    3,
	"支出金额":    4,
}

// What the fund bill's names mean. 收支类型 gives the direction; 业务名称 and
// 业务类型 what the movement was for. The names are those of the platform's
// bills (交易/交易/收入 for a payment, 交易/扣除交易手续费/支出 for its fee,
// 退款/退款/支出 for a refund, 提现 for a withdrawal to the bank); any other is
// FundOther and reconciliation treats it as unexplained.
const (
	dirIncome  = "收入"
	dirExpense = "支出"
)

// WeChat Pay's fund bill is read by OpenFundBill.
func init() {
	gateway.RegisterBillFormat(gateway.BillFormat{Channel: gateway.WeChat, Kind: gateway.FundBill, OpenFunds: OpenFundBill})
}

// OpenFundBill reads a WeChat Pay fund-flow bill (资金账单) of any account
// (BASIC, OPERATION, FEES), as text or gzip. Each detail row becomes one
// gateway.FundLine:
//
//   - Amount = 收支金额 signed by 收支类型 (收入 +, 支出 −); Balance = 账户结余;
//   - Kind from 业务名称 and 业务类型: 交易 with 收入 a FundPayment, any type
//     naming 手续费 (扣除交易手续费) a FundFee, 退款 a FundRefund, 提现 or 结算 a
//     FundWithdrawal, anything else FundOther;
//   - 微信支付业务单号 is the business's platform number: TradeNo (微信支付订单号)
//     on payments and fees, RefundID (微信支付退款单号) on refunds; 业务凭证号
//     is the merchant's number: OutTradeNo, or OutRequestNo on refunds;
//     FlowNo = 资金流水单号.
//
// The bill is held to opt as a trade bill is (see Open) as far as it can
// be: every row's 记账时间 on the day, no movement twice
// (gateway.BillKeys.AddMovement), and opt.Limits.
// Its merchant cannot be checked: a fund bill has no 商户号 column and
// states no account anywhere (a download is the merchant's own, asked for
// under its key; a file given by hand is taken as the merchant's, and a
// movement none of its bookings explains is FUND_UNEXPECTED).
//
// The summary (资金流水总笔数, 收入笔数, 收入金额, 支出笔数, 支出金额) is checked
// against the rows before Next returns io.EOF, so an excerpt whose summary
// covers more rows than it holds fails at the summary row. A trade bill is
// refused as not a fund bill. Every error is a *gateway.BillError naming
// name and the line.
func OpenFundBill(name string, r io.Reader, opt gateway.BillOptions) (gateway.FundReader, error) {
	chk := gateway.NewBillCheck(opt)
	f := &fundReader{lines: billReader{name: name, zone: chk.Opt.Zone, BillCheck: chk}}
	if err := f.lines.openText(r); err != nil {
		return nil, err
	}
	if err := f.readFundHeader(); err != nil {
		return nil, err
	}
	return f, nil
}

// fundReader streams a fund bill. It reads lines and splits backtick rows
// with the trade bill reader's machinery (lines), which it uses for nothing
// else.
type fundReader struct {
	lines  billReader
	ncol   int
	c      fundColumns
	ring   gateway.FundLineRing // the rows handed out
	sums   gateway.FundTotals
	stated gateway.FundTotals
	done   bool
}

type fundColumns struct {
	time, bizNo, flowNo, bizName, bizType, dir, amount, balance, remark, voucher int
}

// fundHeaderName normalizes a header cell: trimmed, parentheses full-width.
func fundHeaderName(s string) string {
	return strings.NewReplacer("(", "（", ")", "）").Replace(strings.TrimSpace(s))
}

func (f *fundReader) readFundHeader() error {
	b := &f.lines
	var line []byte
	for {
		l, err := b.readLine()
		if err == io.EOF {
			return b.fail(0, "empty file: no header line")
		}
		if err != nil {
			return err
		}
		if b.line == 1 {
			l = bytes.TrimPrefix(l, []byte("\xef\xbb\xbf"))
		}
		if len(bytes.TrimSpace(l)) > 0 {
			line = l
			break
		}
	}
	if !utf8.Valid(line) {
		return b.fail(b.line, "header is not UTF-8 (a GBK file? WeChat bills are UTF-8)")
	}
	names := strings.Split(string(line), ",")
	idx := make(map[string]int, len(names))
	b.header = make([]string, len(names))
	for i, n := range names {
		b.header[i] = strings.TrimSpace(n)
		n = fundHeaderName(n)
		if _, dup := idx[n]; dup {
			return b.fail(b.line, "column %q appears twice in the header", n)
		}
		idx[n] = i
	}
	if _, trade := idx[colTradeNo]; trade {
		return b.fail(b.line, "not a fund bill: this is a trade bill (交易账单, header has %s); reconcile it with recon run", colTradeNo)
	}
	col := func(n string) int {
		if i, ok := idx[n]; ok {
			return i
		}
		return -1
	}
	f.c = fundColumns{time: col(fundColTime), bizNo: col(fundColBizNo), flowNo: col(fundColFlowNo), bizName: col(fundColBizName),
		bizType: col(fundColBizType), dir: col(fundColDir), amount: col(fundColAmount), balance: col(fundColBalance),
		remark: col(fundColRemark), voucher: col(fundColVoucher)}
	var missing []string
	for _, req := range []struct {
		name string
		i    int
	}{{fundColTime, f.c.time}, {fundColBizNo, f.c.bizNo}, {fundColFlowNo, f.c.flowNo}, {fundColBizName, f.c.bizName},
		{fundColBizType, f.c.bizType}, {fundColDir, f.c.dir}, {fundColAmount, f.c.amount}} {
		if req.i < 0 {
			missing = append(missing, req.name)
		}
	}
	if len(missing) > 0 {
		return b.fail(b.line, "unknown fund bill layout: header has no %s column (is this a WeChat Pay 资金账单?)", strings.Join(missing, ", "))
	}
	f.ncol = len(names)
	b.fields = make([]string, 0, f.ncol)
	return nil
}

// Next returns the next movement, or io.EOF once the summary row has been
// read and agrees with the rows.
func (f *fundReader) Next() (*gateway.FundLine, error) {
	b := &f.lines
	if b.err != nil {
		return nil, b.err
	}
	if f.done {
		return nil, io.EOF
	}
	for {
		raw, err := b.readLine()
		if err == io.EOF {
			return nil, b.fail(b.line, "truncated: the file ends after %d rows without the summary (%s...) line",
				f.sums.Income+f.sums.Expense, fundSummaryFirst)
		}
		if err != nil {
			return nil, err
		}
		if len(raw) == 0 {
			continue
		}
		if raw[0] != '`' {
			if bytes.HasPrefix(raw, []byte(fundSummaryFirst)) {
				if err := f.readFundSummary(raw); err != nil {
					return nil, err
				}
				f.done = true
				return nil, io.EOF
			}
			if !utf8.Valid(raw) {
				return nil, b.fail(b.line, "not UTF-8 (a GBK file? WeChat bills are UTF-8)")
			}
			return nil, b.fail(b.line, "unexpected line: a detail row starts with a backtick, the summary with %s", fundSummaryFirst)
		}
		return f.row(raw)
	}
}

func (f *fundReader) row(raw []byte) (*gateway.FundLine, error) {
	b := &f.lines
	s := b.keep(raw)
	b.last = s
	v, _, firstHigh := b.splitRow(raw, s)
	if firstHigh >= 0 && !utf8.ValidString(s[firstHigh:]) {
		return nil, b.fail(b.line, "not UTF-8 (a GBK file? WeChat bills are UTF-8)")
	}
	if len(v) != f.ncol {
		return nil, b.fail(b.line, "%d values where the header has %d columns (a truncated or damaged row?)", len(v), f.ncol)
	}
	c := &f.c
	l := f.ring.Take()
	name, typ := v[c.bizName], v[c.bizType]
	*l = gateway.FundLine{Line: b.line, FlowNo: v[c.flowNo], Type: name}
	if typ != "" && typ != name {
		l.Type = name + "/" + typ
	}
	amount, err := gateway.ParseMoney(v[c.amount])
	if err != nil || amount < 0 {
		return nil, b.fail(b.line, "%s %q: want a positive yuan amount (the direction is in %s)", b.header[c.amount], v[c.amount], fundColDir)
	}
	switch v[c.dir] {
	case dirIncome:
		l.Amount = amount
	case dirExpense:
		l.Amount = -amount
	default:
		return nil, b.fail(b.line, "%s %q is neither %s nor %s", fundColDir, v[c.dir], dirIncome, dirExpense)
	}
	if c.balance >= 0 && v[c.balance] != "" {
		if l.Balance, err = gateway.ParseMoney(v[c.balance]); err != nil {
			return nil, b.fail(b.line, "%s: %v", b.header[c.balance], err)
		}
	}
	if c.remark >= 0 {
		l.Remark = v[c.remark]
	}
	voucher := ""
	if c.voucher >= 0 {
		voucher = v[c.voucher]
	}
	l.Kind = fundKind(name, typ, l.Amount)
	switch l.Kind {
	case gateway.FundRefund:
		l.RefundID, l.OutRequestNo = v[c.bizNo], voucher
	case gateway.FundPayment, gateway.FundFee:
		l.TradeNo, l.OutTradeNo = v[c.bizNo], voucher
	default:
		l.TradeNo, l.OutTradeNo = v[c.bizNo], voucher
	}
	if l.Time, err = parseBillTime(v[c.time], b.zone); err != nil {
		return nil, b.fail(b.line, "%s %q: %v", fundColTime, v[c.time], err)
	}
	if !b.OnDay(l.Time) {
		return nil, b.fail(b.line, "%w: %s %s is not on the business day %s: a movement of another day's bill", gateway.ErrBillDay,
			fundColTime, l.Time.Format(time.DateTime), b.DayStart.Format(time.DateOnly))
	}
	if r := b.Keys.AddMovement(l); r != nil {
		return nil, f.repeated(r)
	}
	f.sums.Add(l)
	return l, nil
}

// repeated refuses a movement an earlier row already booked (its
// key, see gateway.BillKeys.AddMovement), at its own line.
func (f *fundReader) repeated(r *gateway.KeyRepeat) error {
	return f.lines.fail(r.Movement.Line, "%w: movement %s is on line %d already", gateway.ErrBillRepeated, r.MovementText(fundColFlowNo), r.First)
}

// fundKind maps 业务名称 and 业务类型 (and the direction) to what the movement
// is for.
func fundKind(name, typ string, amount gateway.Money) gateway.FundKind {
	switch {
	case strings.Contains(typ, "手续费") || strings.Contains(name, "手续费"):
		return gateway.FundFee
	case name == "退款" || typ == "退款":
		return gateway.FundRefund
	case name == "提现" || typ == "提现" || name == "结算" || typ == "结算":
		return gateway.FundWithdrawal
	case (name == "交易" || typ == "交易") && amount > 0:
		return gateway.FundPayment
	}
	return gateway.FundOther
}

// readFundSummary reads the summary title (already read) and the summary
// row after it, and checks every figure against the rows.
func (f *fundReader) readFundSummary(title []byte) error {
	b := &f.lines
	if r := b.Keys.Flush(); r != nil {
		return f.repeated(r)
	}
	names, row, titleLine, summaryLine, err := b.summaryRow(title)
	if err != nil {
		return err
	}
	var got [5]int64
	var has [5]bool
	for i, n := range names {
		id, known := fundSummary[n]
		if !known {
			continue
		}
		if id == 2 || id == 4 {
			m, err := gateway.ParseMoney(row[i])
			if err != nil || m < 0 {
				return b.fail(summaryLine, "%s %q is not a positive yuan amount", n, row[i])
			}
			got[id] = int64(m)
		} else {
			cnt, err := strconv.ParseUint(row[i], 10, 31)
			if err != nil {
				return b.fail(summaryLine, "%s %q is not a row count", n, row[i])
			}
			got[id] = int64(cnt)
		}
		has[id] = true
	}
	for name, id := range fundSummary {
		if !has[id] {
			return b.fail(titleLine, "summary does not state %s", name)
		}
	}
	f.stated = gateway.FundTotals{Income: int(got[1]), IncomeAmount: gateway.Money(got[2]), Expense: int(got[3]), ExpenseAmount: gateway.Money(got[4])}
	c := f.sums
	var disagree []string
	if rows := int64(c.Income + c.Expense); got[0] != rows {
		disagree = append(disagree, fmt.Sprintf("资金流水总笔数 states %d rows, the file has %d", got[0], rows))
	}
	if f.stated.Income != c.Income {
		disagree = append(disagree, fmt.Sprintf("收入笔数 states %d, the file has %d", f.stated.Income, c.Income))
	}
	if f.stated.IncomeAmount != c.IncomeAmount {
		disagree = append(disagree, fmt.Sprintf("收入金额 states %s, the rows add up to %s", f.stated.IncomeAmount, c.IncomeAmount))
	}
	if f.stated.Expense != c.Expense {
		disagree = append(disagree, fmt.Sprintf("支出笔数 states %d, the file has %d", f.stated.Expense, c.Expense))
	}
	if f.stated.ExpenseAmount != c.ExpenseAmount {
		disagree = append(disagree, fmt.Sprintf("支出金额 states %s, the rows add up to %s", f.stated.ExpenseAmount, c.ExpenseAmount))
	}
	if len(disagree) > 0 {
		return b.fail(summaryLine, "totals disagree with the rows (an excerpt or a damaged file?): %s", strings.Join(disagree, "; "))
	}
	return nil
}

// LineText is the row Next returned last, as the file holds it (see the
// trade bill's).
func (f *fundReader) LineText() gateway.LineText { return f.lines.LineText() }

// Stated returns the summary's figures (valid after io.EOF, when they equal
// Computed).
func (f *fundReader) Stated() gateway.FundTotals { return f.stated }

// Computed returns the totals of the rows read so far.
func (f *fundReader) Computed() gateway.FundTotals { return f.sums }
