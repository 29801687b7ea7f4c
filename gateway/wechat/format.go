package wechat

import "github.com/paydesk/paydesk/gateway"

// WeChat Pay's trade bill is read by Open; a refund row is dated when the
// refund was asked for (交易时间 = 发起退款时间), whenever it succeeds.
func init() {
	gateway.RegisterBillFormat(gateway.BillFormat{Channel: gateway.WeChat, Kind: gateway.TradeBill, Open: Open,
		RefundDating: gateway.RefundsDatedAtRequest})
}
