package wechat

import (
	"fmt"
	"net/url"

	"github.com/paydesk/paydesk/gateway"
)

// The lengths WeChat Pay documents for the fields paydesk sends, in bytes.
// Sources:
//   - 申请退款 POST /v3/refund/domestic/refunds,
//     https://pay.weixin.qq.com/doc/v3/merchant/4012552567: transaction_id
//     string(32), out_trade_no string(32), out_refund_no string(64)
//     ("不可超过64个字节数"), reason string(80), notify_url string(256),
//     amount.currency string(16).
//   - 查询单笔退款 GET /v3/refund/domestic/refunds/{out_refund_no}:
//     out_refund_no string(64).
//   - 商户订单号查询订单 GET /v3/pay/transactions/out-trade-no/{out_trade_no}:
//     out_trade_no string(32).
var (
	limitTransactionID = gateway.FieldLimit{Field: "transaction_id", What: "WeChat Pay order number", Max: 32}
	limitOutTradeNo    = gateway.FieldLimit{Field: "out_trade_no", What: "order number", Max: 32}
	limitOutRefundNo   = gateway.FieldLimit{Field: "out_refund_no", What: "refund request number", Max: 64}
	limitReason        = gateway.FieldLimit{Field: "reason", What: "refund reason", Max: 80}
	limitNotifyURL     = gateway.FieldLimit{Field: "notify_url", What: "refund notify URL", Max: 256}
	limitCurrency      = gateway.FieldLimit{Field: "amount.currency", What: "currency", Max: 16}
)

// CheckRefund checks a refund request's fields against WeChat Pay's
// documented lengths before anything is recorded. Empty fields are not
// checked.
func (c *Client) CheckRefund(req gateway.RefundRequest) error {
	return gateway.CheckFields(gateway.WeChat, gateway.FieldValue{Limit: limitOutTradeNo, Value: req.OutTradeNo},
		gateway.FieldValue{Limit: limitTransactionID, Value: req.TradeNo}, gateway.FieldValue{Limit: limitOutRefundNo, Value: req.OutRequestNo},
		gateway.FieldValue{Limit: limitReason, Value: req.Reason}, gateway.FieldValue{Limit: limitCurrency, Value: req.Currency},
		gateway.FieldValue{Limit: limitNotifyURL, Value: c.cfg.RefundNotifyURL})
}

// The v2 refund API (申请退款, /secapi/pay/refund,
// https://pay.weixin.qq.com/wiki/doc/api/native.php?chapter=9_4) documents
// the same lengths under its own names: out_trade_no String(32),
// transaction_id String(32), out_refund_no String(64), refund_desc
// String(80), notify_url String(256), refund_fee_type String(8).
var (
	limitRefundDesc    = gateway.FieldLimit{Field: "refund_desc", What: "refund reason", Max: 80}
	limitRefundFeeType = gateway.FieldLimit{Field: "refund_fee_type", What: "currency", Max: 8}
	limitV2NotifyURL   = gateway.FieldLimit{Field: "notify_url", What: "refund notify URL", Max: 256}
)

// CheckRefund checks a v2 refund request's fields before anything is
// recorded.
func (c *V2Client) CheckRefund(req gateway.RefundRequest) error {
	return gateway.CheckFields(gateway.WeChat, gateway.FieldValue{Limit: limitOutTradeNo, Value: req.OutTradeNo},
		gateway.FieldValue{Limit: limitTransactionID, Value: req.TradeNo}, gateway.FieldValue{Limit: limitOutRefundNo, Value: req.OutRequestNo},
		gateway.FieldValue{Limit: limitRefundDesc, Value: req.Reason}, gateway.FieldValue{Limit: limitRefundFeeType, Value: req.Currency},
		gateway.FieldValue{Limit: limitV2NotifyURL, Value: c.cfg.RefundNotifyURL})
}

// CheckRefund checks a refund against the limits of the API refunds go
// through.
func (m *Merchant) CheckRefund(req gateway.RefundRequest) error {
	if rc, ok := m.calls.(gateway.RefundChecker); ok {
		return rc.CheckRefund(req)
	}
	return nil
}

// checkNotifyURL refuses a refund notify_url WeChat Pay would refuse: it
// must be an absolute http(s) URL without a query ("不能携带参数") within
// 256 bytes.
func checkNotifyURL(s string) error {
	if s == "" {
		return nil
	}
	if err := limitNotifyURL.Check(gateway.WeChat, s); err != nil {
		return fmt.Errorf("wechat: %w", err)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("wechat: refund notify URL %q is not an absolute http(s) URL", s)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("wechat: refund notify URL %q carries parameters; WeChat Pay accepts none", s)
	}
	return nil
}
