package sandbox

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// FundMovement is a movement of the merchant's account that is not a
// trade's: a withdrawal to the bank, a deduction, a transfer in. The fund
// bill of its day lists it beside the trades' movements.
type FundMovement struct {
	Time time.Time `json:"time"`
	// Amount is signed: positive money in, negative money out.
	Amount gateway.Money `json:"amount"`
	// Kind is gateway.FundWithdrawal for a withdrawal; anything else is
	// written as an unexplained movement (Alipay 其它/转账, WeChat 其他).
	Kind   gateway.FundKind `json:"kind"`
	Remark string           `json:"remark,omitempty"`
	// OutTradeNo, when set, names a trade the movement is about (a
	// chargeback); it still is not the trade's own movement.
	OutTradeNo string `json:"out_trade_no,omitempty"`
}

// AddFundMovement adds a movement to a channel's account.
func (s *Server) AddFundMovement(ch gateway.Channel, m FundMovement) error {
	if _, ok := s.sides[ch]; !ok {
		return fmt.Errorf("%w: %q", errChannelNotEnabled, ch)
	}
	if m.Amount == 0 || m.Time.IsZero() {
		return fmt.Errorf("sandbox: a fund movement needs an amount and a time")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.movements[ch] = append(s.movements[ch], m)
	return nil
}

// tradeFee is the service fee the platform charges on a trade: its rate's
// (AlipayFee, WeChatFee), or the Fee of a fault in force.
func (s *Server) tradeFee(t *Trade) gateway.Money {
	if f := s.fault(t.Channel, t.OutTradeNo); f.Fee != nil {
		return *f.Fee
	}
	if t.Channel == gateway.Alipay {
		return AlipayFee(t.Amount)
	}
	return WeChatFee(t.Amount)
}

// refundFees returns the fee each refund of a trade whose money moved
// (Trade.RefundMovedAt) gives back, by request number, as the trade bills
// book it: Alipay's telescope over the cumulative refunded amount (a trade
// refunded in any number of parts gives back exactly its fee), WeChat's
// are the rate's of each refund.
func refundFees(t *Trade) map[string]gateway.Money {
	out := map[string]gateway.Money{}
	var done []*Refund
	at := map[*Refund]time.Time{}
	for _, r := range t.Refunds {
		if moved, ok := t.RefundMovedAt(r); ok {
			done = append(done, r)
			at[r] = moved
		}
	}
	slices.SortStableFunc(done, func(x, y *Refund) int { return at[x].Compare(at[y]) })
	var cumulative gateway.Money
	for _, r := range done {
		before := cumulative
		cumulative += r.Amount
		if t.Channel == gateway.Alipay {
			out[r.OutRequestNo] = AlipayFee(cumulative) - AlipayFee(before)
		} else {
			out[r.OutRequestNo] = WeChatFee(r.Amount)
		}
	}
	return out
}

// fundRow is one movement of a fund bill, before a platform writes it.
type fundRow struct {
	at     time.Time
	kind   gateway.FundKind
	amount gateway.Money // signed
	trade  *Trade        // nil for a movement of no trade
	refund *Refund       // the refund a REFUND row (or its fee) is for
	// fee is the trade's fee on a payment row (taken apart, or netted by
	// WeChat's refund rows); feeBack the fee a refund gives back.
	fee, feeBack gateway.Money
	remark       string
	outTradeNo   string
}

// fundRows lists the movements of a channel's account on a business day:
// each trade paid that day (its payment, then its fee), each refund whose
// money left that day (Trade.RefundMovedAt: it succeeded, or went
// ABNORMAL; the refund, and the fee it gives back), and the
// movements added with AddFundMovement; in time order. A trade with a
// NoFundMovement fault moves nothing.
func (s *Server) fundRows(ch gateway.Channel, day time.Time) []fundRow {
	start, end := gateway.Day(day, s.Zone())
	in := func(t time.Time) bool { return !t.IsZero() && !t.Before(start) && t.Before(end) }
	var rows []fundRow
	for _, t := range s.Trades(ch) {
		if t.State != gateway.TradePaid || s.fault(ch, t.OutTradeNo).NoFundMovement {
			continue
		}
		if in(t.BookedAt()) {
			rows = append(rows, fundRow{at: t.BookedAt(), kind: gateway.FundPayment, amount: t.Amount, trade: t, fee: s.tradeFee(t)})
		}
		back := refundFees(t)
		for _, r := range t.Refunds {
			if at, ok := t.RefundMovedAt(r); ok && in(at) {
				rows = append(rows, fundRow{at: at, kind: gateway.FundRefund, amount: -r.Amount, trade: t, refund: r,
					feeBack: back[r.OutRequestNo], remark: r.Reason})
			}
		}
	}
	s.mu.Lock()
	for _, m := range s.movements[ch] {
		if in(m.Time) {
			kind := m.Kind
			if kind != gateway.FundWithdrawal {
				kind = gateway.FundOther
			}
			rows = append(rows, fundRow{at: m.Time, kind: kind, amount: m.Amount, remark: m.Remark, outTradeNo: m.OutTradeNo})
		}
	}
	s.mu.Unlock()
	slices.SortStableFunc(rows, func(x, y fundRow) int {
		return cmp.Or(x.at.Compare(y.at), strings.Compare(x.tradeNo(), y.tradeNo()))
	})
	return rows
}

func (r fundRow) tradeNo() string {
	if r.trade == nil {
		return ""
	}
	return r.trade.TradeNo
}

// fundFlowNo numbers a day's movements for the bills (账务流水号, 资金流水单号):
// the date, the channel's prefix and a sequence.
func fundFlowNo(prefix string, day time.Time, seq int) string {
	return fmt.Sprintf("%s%s%010d", prefix, day.Format("20060102"), seq)
}
