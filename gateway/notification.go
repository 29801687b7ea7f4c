package gateway

import "time"

// Event says what a verified notification reports.
type Event string

const (
	// EventPayment: the trade is paid (Alipay TRADE_SUCCESS/TRADE_FINISHED,
	// WeChat TRANSACTION.SUCCESS).
	EventPayment Event = "PAYMENT"
	// EventRefund: a refund succeeded (Alipay notifications carrying
	// refund_fee/out_biz_no, WeChat REFUND.SUCCESS).
	EventRefund Event = "REFUND"
	// EventClosed: the trade closed without payment.
	EventClosed Event = "CLOSED"
	// EventOther: anything that changes nothing locally (WAIT_BUYER_PAY,
	// REFUND.ABNORMAL, ...); acknowledged and stored.
	EventOther Event = "OTHER"
)

// Notification is a verified platform callback in normalized form. Only
// VerifyNotification makes one; nothing unverified has this type.
type Notification struct {
	Channel       Channel   `json:"channel"`
	NotifyID      string    `json:"notify_id,omitempty"`
	Event         Event     `json:"event"`
	PlatformState string    `json:"platform_state"` // trade_status, trade_state or refund_status
	AppID         string    `json:"app_id,omitempty"`
	MchID         string    `json:"mchid,omitempty"`
	OutTradeNo    string    `json:"out_trade_no"`
	TradeNo       string    `json:"trade_no,omitempty"`
	Amount        Money     `json:"amount"` // the order total
	Currency      string    `json:"currency,omitempty"`
	PaidAt        time.Time `json:"paid_at,omitzero"`
	BuyerID       string    `json:"-"`

	// Refund events only.
	OutRequestNo string    `json:"out_request_no,omitempty"`
	RefundID     string    `json:"refund_id,omitempty"`
	RefundAmount Money     `json:"refund_amount,omitempty"`
	RefundedAt   time.Time `json:"refunded_at,omitzero"`
	// RefundTotal is the trade's total refunded so far when the platform
	// says it (Alipay refund_fee is cumulative).
	RefundTotal Money `json:"refund_total,omitempty"`

	// Raw is the verified plaintext (WeChat: the decrypted resource).
	Raw []byte `json:"-"`
}

// Reply is the HTTP answer a platform expects from a notification endpoint.
type Reply struct {
	Status      int
	ContentType string
	Body        []byte
}
