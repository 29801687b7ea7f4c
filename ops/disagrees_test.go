package ops

import (
	"testing"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/store"
)

// TestDisagreesTable: every local status against every platform answer a
// query log can hold. The verdict is QueryTrade's, read back from the log.
func TestDisagreesTable(t *testing.T) {
	paid := func(s store.OrderStatus) store.Order {
		return store.Order{OutTradeNo: "PD1", Status: s, TradeNo: "T1"}
	}
	pending := store.Order{OutTradeNo: "PD1", Status: store.OrderPending}
	answer := func(st gateway.TradeState, tradeNo string) store.TradeQuery {
		return store.TradeQuery{State: st, PlatformState: string(st), TradeNo: tradeNo}
	}
	notFound := store.TradeQuery{PlatformState: PlatformNotFound, Error: "trade not found"}
	failed := store.TradeQuery{Error: "outcome unknown: 502"}
	cases := []struct {
		name  string
		local store.Order
		q     store.TradeQuery
		want  bool
	}{
		{"paid both, same trade", paid(store.OrderPaid), answer(gateway.TradePaid, "T1"), false},
		{"paid both, platform gives no trade number", paid(store.OrderPaid), answer(gateway.TradePaid, ""), false},
		{"paid both, different trades", paid(store.OrderPaid), answer(gateway.TradePaid, "T2"), true},
		{"paid here, not paid there", paid(store.OrderPaid), answer(gateway.TradeNotPaid, ""), true},
		{"paid here, closed there", paid(store.OrderPaid), answer(gateway.TradeClosed, ""), true},
		{"paid here, pay error there", paid(store.OrderPaid), answer(gateway.TradePayError, ""), true},
		{"paid here, unknown there (forged callback?)", paid(store.OrderPaid), notFound, true},
		{"partly refunded here, unknown there", paid(store.OrderPartiallyRefunded), notFound, true},
		{"refunded there, not here", paid(store.OrderPaid), answer(gateway.TradeRefunded, "T1"), true},
		{"refunded both (in part)", paid(store.OrderPartiallyRefunded), answer(gateway.TradeRefunded, "T1"), false},
		{"refunded both (in full)", paid(store.OrderRefunded), answer(gateway.TradeRefunded, "T1"), false},
		{"pending here, paid there", pending, answer(gateway.TradePaid, "T1"), true},
		{"pending here, refunded there", pending, answer(gateway.TradeRefunded, "T1"), true},
		{"pending both", pending, answer(gateway.TradeNotPaid, ""), false},
		{"pending here, closed there", pending, answer(gateway.TradeClosed, ""), true},
		{"pending here, unknown there (never reached checkout)", pending, notFound, false},
		{"closed both", store.Order{Status: store.OrderClosed}, answer(gateway.TradeClosed, ""), false},
		{"closed here, unknown there", store.Order{Status: store.OrderClosed}, notFound, false},
		{"closed here, paid there", store.Order{Status: store.OrderClosed}, answer(gateway.TradePaid, "T1"), true},
		{"paid here, query failed", paid(store.OrderPaid), failed, false},
		{"pending here, query failed", pending, failed, false},
	}
	for _, c := range cases {
		if got := Disagrees(c.local, c.q); got != c.want {
			t.Errorf("%s: Disagrees = %v, want %v", c.name, got, c.want)
		}
	}
}
