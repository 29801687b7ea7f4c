package alipay

import "github.com/paydesk/paydesk/gateway"

// The lengths Alipay documents for the fields paydesk sends. Sources:
//   - alipay.trade.refund, https://opendocs.alipay.com/apis/api_1/alipay.trade.refund
//     (请求参数: out_trade_no String 64, trade_no String 64, refund_reason
//     String 256, out_request_no String 64);
//   - alipay.trade.fastpay.refund.query and alipay.trade.query: the same
//     out_trade_no, trade_no and out_request_no lengths.
//
// Alipay counts characters; these limits count bytes of UTF-8, the stricter
// reading, so what passes here passes there.
var (
	limitOutTradeNo   = gateway.FieldLimit{Field: "out_trade_no", What: "order number", Max: 64}
	limitTradeNo      = gateway.FieldLimit{Field: "trade_no", What: "Alipay trade number", Max: 64}
	limitOutRequestNo = gateway.FieldLimit{Field: "out_request_no", What: "refund request number", Max: 64}
	limitRefundReason = gateway.FieldLimit{Field: "refund_reason", What: "refund reason", Max: 256}
)

// CheckRefund checks a refund request's fields against Alipay's documented
// lengths before anything is recorded. Empty fields are not checked.
func (c *Client) CheckRefund(req gateway.RefundRequest) error {
	return gateway.CheckFields(gateway.Alipay, gateway.FieldValue{Limit: limitOutTradeNo, Value: req.OutTradeNo},
		gateway.FieldValue{Limit: limitTradeNo, Value: req.TradeNo}, gateway.FieldValue{Limit: limitOutRequestNo, Value: req.OutRequestNo},
		gateway.FieldValue{Limit: limitRefundReason, Value: req.Reason})
}

// CheckRefund checks a refund against the OpenAPI app's limits (refunds go
// through it).
func (m *Merchant) CheckRefund(req gateway.RefundRequest) error {
	if rc, ok := m.api.(gateway.RefundChecker); ok {
		return rc.CheckRefund(req)
	}
	return nil
}
