package gateway

import "time"

// TradeState is a trade's state at the platform, normalized across platforms.
type TradeState string

const (
	// TradeNotPaid: created and waiting for the buyer (Alipay WAIT_BUYER_PAY;
	// WeChat NOTPAY, USERPAYING).
	TradeNotPaid TradeState = "NOTPAID"
	// TradePaid: money received (Alipay TRADE_SUCCESS, TRADE_FINISHED;
	// WeChat SUCCESS).
	TradePaid TradeState = "PAID"
	// TradeRefunded: paid and then refunded in part or whole (WeChat REFUND).
	// Alipay reports a fully refunded trade as TRADE_CLOSED; its client maps
	// that to TradeRefunded when the response carries a refund.
	TradeRefunded TradeState = "REFUNDED"
	// TradeClosed: closed without payment (Alipay TRADE_CLOSED, WeChat CLOSED,
	// REVOKED).
	TradeClosed TradeState = "CLOSED"
	// TradePayError: the payment failed (WeChat PAYERROR).
	TradePayError TradeState = "PAYERROR"
)

// Trade is the platform's answer to a trade query.
type Trade struct {
	Channel       Channel    `json:"channel"`
	OutTradeNo    string     `json:"out_trade_no"`
	TradeNo       string     `json:"trade_no,omitempty"`
	State         TradeState `json:"state"`
	PlatformState string     `json:"platform_state"` // as the platform spells it
	Amount        Money      `json:"amount"`         // the order total
	Currency      string     `json:"currency,omitempty"`
	PaidAt        time.Time  `json:"paid_at,omitzero"`
	BuyerID       string     `json:"-"` // never shown unmasked
	// Raw is the verified response body, kept for the query log.
	Raw []byte `json:"-"`
}

// IsPaid reports whether the platform says the money was received, which is
// what allows the paid transition from a live query.
func (t Trade) IsPaid() bool { return t.State == TradePaid || t.State == TradeRefunded }
