package alipay

import "github.com/paydesk/paydesk/gateway"

// Alipay's trade bill is read by Open; refunds are on the bill of the day
// they completed (完成时间).
func init() {
	gateway.RegisterBillFormat(gateway.BillFormat{Channel: gateway.Alipay, Kind: gateway.TradeBill, Open: Open,
		RefundDating: gateway.RefundsDatedAtSuccess})
}
