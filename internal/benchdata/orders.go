// Package benchdata makes the synthetic orders that benchmarks and load
// tools fill large stores with (the console's at 1M orders, the SSH
// console's under load), so they measure the same month of data.
package benchdata

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/store"
)

// MonthStart is where the synthetic month begins.
var MonthStart = time.Date(2026, 10, 1, 0, 0, 0, 0, gateway.Shanghai)

// statuses weights the states as a shop sees them: mostly paid.
var statuses = []store.OrderStatus{store.OrderPaid, store.OrderPaid, store.OrderPaid, store.OrderPaid, store.OrderPaid,
	store.OrderPaid, store.OrderPending, store.OrderClosed, store.OrderPartiallyRefunded, store.OrderRefunded}

// Order is the i-th order of a synthetic month on both channels, one
// every 2.6 s: numbers are a time prefix plus random characters, as real
// ones are.
func Order(r *rand.Rand, i int) store.Order {
	const letters = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
	created := MonthStart.Add(time.Duration(i) * 2600 * time.Millisecond)
	no := created.AppendFormat([]byte("PD"), "20060102150405")
	for range 6 {
		no = append(no, letters[r.IntN(len(letters))])
	}
	o := store.Order{OutTradeNo: string(no), Channel: gateway.Alipay, Amount: gateway.Money(100 + r.IntN(99900)),
		Subject: "会员月卡", Status: statuses[r.IntN(len(statuses))], CreatedAt: created}
	if r.IntN(3) == 0 {
		o.Channel = gateway.WeChat
	}
	if o.Status.IsPaid() {
		o.TradeNo = created.Format("20060102") + fmt.Sprintf("22001%07d", i)
		o.PaidAt = created.Add(30 * time.Second)
	}
	switch o.Status {
	case store.OrderRefunded:
		o.Refunded = o.Amount
	case store.OrderPartiallyRefunded:
		o.Refunded = o.Amount / 2
	}
	return o
}
