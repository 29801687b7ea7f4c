package gateway

import (
	"context"
	"io"
	"time"
)

// FundKind says what an account movement of a fund bill is for, as far as
// the platform's own business type tells: the parsers map each platform's
// names (Alipay 业务类型, WeChat 业务名称/业务类型) onto these, so nothing above
// gateway needs to know them.
type FundKind string

const (
	// FundPayment: money in for a trade (Alipay 在线支付/交易付款, WeChat 交易 收入).
	FundPayment FundKind = "PAYMENT"
	// FundRefund: money out for a refund (Alipay 交易退款, WeChat 退款).
	FundRefund FundKind = "REFUND"
	// FundFee: a service fee taken for a trade (negative), or given back
	// when the trade is refunded (positive) — Alipay 收费 / 服务费退回,
	// WeChat 扣除交易手续费.
	FundFee FundKind = "FEE"
	// FundWithdrawal: money sent to the merchant's bank account (提现,
	// 结算). Not an error: listed and totalled.
	FundWithdrawal FundKind = "WITHDRAWAL"
	// FundOther: anything else — a transfer in, a deduction, a chargeback,
	// an adjustment. Reconciliation has nothing to explain it with.
	FundOther FundKind = "OTHER"
)

// FundLine is one account movement of a fund bill (Alipay 账务明细, WeChat
// 资金账单). Its numbers are whatever the platform prints for the business
// the movement belongs to; a parser leaves a number empty rather than
// guess it.
type FundLine struct {
	Line int // 1-based line number in the bill file
	Kind FundKind
	// Amount is the signed movement: positive money in, negative money out.
	Amount Money
	// Balance is the account balance after the movement, as printed.
	Balance Money
	// FlowNo is the platform's number of the movement itself (Alipay
	// 账务流水号, WeChat 资金流水单号).
	FlowNo string
	// TradeNo is the platform trade number the movement belongs to
	// (支付宝交易号, 微信支付订单号); a refund or fee movement carries the
	// trade it refunds or is charged for where the bill says.
	TradeNo string
	// RefundID is the platform's refund number (微信支付退款单号) on refund
	// movements that print one.
	RefundID string
	// OutTradeNo and OutRequestNo are the merchant's order and refund
	// request numbers where the bill prints them.
	OutTradeNo   string
	OutRequestNo string
	Time         time.Time // when the account moved (发生时间, 记账时间)
	// Type is the platform's business type as printed (业务类型, or WeChat's
	// 业务名称/业务类型), for people.
	Type   string
	Remark string // 备注
}

// FundTotals are a fund bill's counts and sums by direction, as stated in
// its summary or computed from its movements. Amounts are positive.
type FundTotals struct {
	Income        int   `json:"income"`
	IncomeAmount  Money `json:"income_amount"`
	Expense       int   `json:"expense"`
	ExpenseAmount Money `json:"expense_amount"`
}

// Add accounts one movement.
func (t *FundTotals) Add(l *FundLine) {
	if l.Amount >= 0 {
		t.Income++
		t.IncomeAmount += l.Amount
	} else {
		t.Expense++
		t.ExpenseAmount -= l.Amount
	}
}

// Net is income minus expense.
func (t FundTotals) Net() Money { return t.IncomeAmount - t.ExpenseAmount }

// FundReader streams the movements of one fund bill. Next returns io.EOF
// at the end, and only after the bill's stated totals have been checked
// against its movements (a reader that reached io.EOF has proven the bill
// consistent). The movement Next returns is the reader's until Next is
// called again: a caller that keeps it copies it (its strings stay valid).
// Errors are *BillError naming the file and line. Parsers
// register by channel with RegisterBillFormat, Kind FundBill, and hold the
// bill to BillOptions as trade bill parsers do (see BillCheck).
type FundReader interface {
	Next() (*FundLine, error)
	// Stated returns the totals as the bill states them (valid after io.EOF).
	Stated() FundTotals
	// Computed returns the totals of the movements read so far.
	Computed() FundTotals
}

// FundBillDownloader is a Platform that can also download its fund bill.
// It is a separate interface so that a client without one (a platform that
// publishes none, or an API version paydesk does not speak) still is a
// Platform; callers ask with a type assertion.
type FundBillDownloader interface {
	// DownloadFundBill fetches the fund bill of the business date that day
	// falls on and streams it to dst as the trade bill's download does
	// (Alipay: the signcustomer zip as served; WeChat: the BASIC account's
	// text, inflated, its SHA1 checked on the way). The caller spools and
	// hashes what dst receives, and drops it on an error.
	DownloadFundBill(ctx context.Context, day time.Time, dst io.Writer) (BillFile, error)
}
