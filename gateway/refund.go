package gateway

import "time"

// RefundStatus is a refund's state, locally and at the platform.
type RefundStatus string

const (
	RefundPending RefundStatus = "PENDING"
	RefundSuccess RefundStatus = "SUCCESS"
	RefundFailed  RefundStatus = "FAILED"
)

// RefundRequest asks the platform to refund part or all of a paid trade.
// OutRequestNo identifies the request: sending it again must never refund
// twice, which is what makes a retry after a timeout safe.
type RefundRequest struct {
	OutTradeNo   string
	TradeNo      string
	OutRequestNo string
	Amount       Money // this refund
	Total        Money // the order total (WeChat requires it)
	Currency     string
	Reason       string
}

// RefundResult is the platform's answer about one refund request.
type RefundResult struct {
	OutTradeNo    string       `json:"out_trade_no"`
	OutRequestNo  string       `json:"out_request_no"`
	RefundID      string       `json:"refund_id,omitempty"`
	Status        RefundStatus `json:"status"`
	PlatformState string       `json:"platform_state,omitempty"`
	Amount        Money        `json:"amount"`
	RefundedAt    time.Time    `json:"refunded_at,omitzero"`
	Raw           []byte       `json:"-"`
}
