package gateway

import (
	"fmt"
	"time"
)

// LineKind says whether a bill line books a payment or a refund.
type LineKind string

const (
	LinePayment LineKind = "PAYMENT"
	LineRefund  LineKind = "REFUND"
)

// BillLine is one detail row of a platform trade bill.
type BillLine struct {
	Line       int      // 1-based line number in the bill file, for error messages
	Kind       LineKind //
	TradeNo    string   // platform trade number (支付宝交易号 / 微信订单号)
	OutTradeNo string   // merchant order number (商户订单号)
	// Refund rows: the request number (退款批次号/请求号, 商户退款单号) and
	// the platform's refund id where the bill has one (微信退款单号).
	OutRequestNo string
	RefundID     string
	// Amount is positive: the order amount of a payment, or the refunded
	// amount of a refund.
	Amount Money
	// Net is what the line adds to the merchant's settlement before fees:
	// positive for payments, negative for refunds.
	Net Money
	// Fee is the service fee as the bill states it: positive when charged,
	// negative when returned on a refund.
	Fee Money
	// Time dates the line into its bill: a payment's completion time; a
	// refund's completion time (Alipay) or its request time (WeChat Pay:
	// see RefundDating).
	Time  time.Time
	State string // the platform's status or business type column
	// RefundStatus is a refund line's status as the bill prints it, in
	// paydesk's terms: RefundSuccess on bills that list refunds once they
	// succeed (Alipay); on WeChat Pay's, whatever 退款状态 said when the
	// bill was cut (PENDING for PROCESSING, FAILED for CLOSED, ABNORMAL),
	// never updated afterwards. Empty on payments.
	RefundStatus RefundStatus
	// Subject is the goods description (商品名称).
	Subject string
}

// BillTotals are the counts and sums of a bill: either as the bill states
// them in its summary, or as computed from its lines.
type BillTotals struct {
	Payments      int   `json:"payments"`
	PaymentAmount Money `json:"payment_amount"` // Σ Amount of payment lines
	Refunds       int   `json:"refunds"`
	RefundAmount  Money `json:"refund_amount"` // Σ Amount of refund lines (positive)
	Fees          Money `json:"fees"`          // Σ Fee (net of returned fees)
	Net           Money `json:"net"`           // Σ Net
}

// Add accounts one line.
func (t *BillTotals) Add(l *BillLine) {
	switch l.Kind {
	case LinePayment:
		t.Payments++
		t.PaymentAmount += l.Amount
	case LineRefund:
		t.Refunds++
		t.RefundAmount += l.Amount
	}
	t.Fees += l.Fee
	t.Net += l.Net
}

// BillReader streams the lines of one bill. Next returns io.EOF at the end,
// and only after it has checked the bill's stated totals against its lines,
// so a reader that reached io.EOF has proven the bill consistent. The line
// Next returns is the reader's until Next is called again: a caller that
// keeps it copies it (its strings stay valid).
type BillReader interface {
	Next() (*BillLine, error)
	// Stated returns the totals as the bill's summary states them (valid
	// after io.EOF). Figures a layout does not state are zero.
	Stated() BillTotals
	// Computed returns the totals of the lines read so far.
	Computed() BillTotals
}

// BillError names the bill file and line a problem was found at.
type BillError struct {
	File string
	Line int // 0 when the problem is the file as a whole
	Err  error
}

func (e *BillError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

func (e *BillError) Unwrap() error { return e.Err }

// BillFile describes a downloaded bill: what it was called and how many
// bytes were written. (The caller hashes what it keeps as it spools it.)
type BillFile struct {
	Name string
	Size int64
}

// Day returns the half-open interval [start, end) that the business date of
// t covers in zone: a bill for date D covers D 00:00 to D+1 00:00 there.
func Day(t time.Time, zone *time.Location) (start, end time.Time) {
	y, m, d := t.In(zone).Date()
	start = time.Date(y, m, d, 0, 0, 0, 0, zone)
	return start, start.AddDate(0, 0, 1)
}
