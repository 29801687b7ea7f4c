package gateway

import (
	"fmt"
	"time"
)

// Event says what a verified notification reports.
type Event string

const (
	// EventPayment: the trade is paid (Alipay TRADE_SUCCESS/TRADE_FINISHED,
	// WeChat TRANSACTION.SUCCESS).
	EventPayment Event = "PAYMENT"
	// EventRefund: a refund succeeded (Alipay notifications carrying
	// refund_fee/out_biz_no, WeChat REFUND.SUCCESS).
	EventRefund Event = "REFUND"
	// EventRefundAbnormal: the refund's money left the merchant but did not
	// reach the buyer (WeChat REFUND.ABNORMAL).
	EventRefundAbnormal Event = "REFUND_ABNORMAL"
	// EventRefundClosed: the refund was closed without being carried out
	// (WeChat REFUND.CLOSED): no money moved.
	EventRefundClosed Event = "REFUND_CLOSED"
	// EventClosed: the trade closed without payment.
	EventClosed Event = "CLOSED"
	// EventOther: anything that changes nothing locally (WAIT_BUYER_PAY,
	// events of other products); acknowledged and stored.
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

	// VerifiedBy names the key whose signature verified the notification,
	// as a person reads it: "public key PUB_KEY_ID_…", "platform
	// certificate 5157F0…", "RSA2 Alipay public key".
	VerifiedBy string `json:"verified_by,omitempty"`

	// Raw is the verified plaintext (WeChat: the decrypted resource).
	Raw []byte `json:"-"`
}

// IsRefund says whether the event reports on a refund.
func (e Event) IsRefund() bool {
	return e == EventRefund || e == EventRefundAbnormal || e == EventRefundClosed
}

// UnknownKeyError is a signature under a key this merchant has not
// configured: WeChat names its signing key in Wechatpay-Serial, and a
// serial that is neither the platform public key's id nor a known platform
// certificate's cannot be checked. It is a bad signature (the platform
// resends; a person fixes the configuration) that keeps the serial named,
// so the listing can say which key is missing.
type UnknownKeyError struct {
	Serial string
}

func (e *UnknownKeyError) Error() string {
	return fmt.Sprintf("signed under unknown serial %q: neither the configured platform public key nor a known platform certificate", e.Serial)
}

func (e *UnknownKeyError) Unwrap() error { return ErrBadSignature }

// Reply is the HTTP answer a platform expects from a notification endpoint.
type Reply struct {
	Status      int
	ContentType string
	Body        []byte
}
