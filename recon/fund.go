package recon

import (
	"cmp"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// FundInput is everything one fund-flow run for (Channel, Day) needs: the
// day's bookings that should move money (the day's trade bill lines, fed to
// FundMatcher.Expect, and paydesk's own payments and refunds of the day)
// and the ways to find an older booking a movement belongs to.
type FundInput struct {
	Channel gateway.Channel
	// Day is the start (00:00) of the business day in Zone.
	Day  time.Time
	Zone *time.Location // nil: gateway.Shanghai

	// FeeRate is the contracted rate: the fee a booking should cost when
	// the trade bill does not say (a payment only paydesk has, or no trade
	// bill at all). Zero: unknown, and any fee movement is taken as charged.
	FeeRate gateway.FeeRate

	// Orders or EachOrder: paydesk's orders paid on Day on Channel, as for
	// Input (orders not Paid are ignored; ExtraTrades paid on Day on
	// Channel are payments too).
	Orders    []Order
	EachOrder func(fn func(Order) error) error
	// Refunds: paydesk's refunds on Channel whose money left the account
	// on Day: that succeeded, or went ABNORMAL, on it (Refund.MovedAt).
	Refunds []Refund

	// LookupOrder finds an order by number and LookupTrade by the
	// platform's trade number, any day, for a movement whose booking is not
	// of this day (a payment at 23:59:58 yesterday whose money moved after
	// midnight). LookupRefund finds a refund by request number. nil finds
	// nothing.
	LookupOrder  func(outTradeNo string) (Order, bool)
	LookupTrade  func(tradeNo string) (Order, bool)
	LookupRefund func(outRequestNo string) (Refund, bool)

	// CrossDayWindow: a booking this close before midnight without a
	// movement may have moved on the next day; its FUND_MISSING is a
	// warning, not critical (0: DefaultCrossDayWindow).
	CrossDayWindow time.Duration
	// Bookings, when known (the trade bill's line count), sizes the index
	// of trade numbers up front, so that it is not rebuilt, every number
	// hashed again, each time it doubles.
	Bookings int
}

// FundResult is the outcome of one fund-flow run.
type FundResult struct {
	// Findings is every item that did not end FUND_MATCHED (withdrawals
	// included: they are listed), in report order.
	Findings []Finding `json:"findings"`
	// Counts has an entry for every fund category. Amounts are signed as
	// the account moved (money in positive); a FUND_MISSING item counts
	// what was expected to move.
	Counts map[Category]CategoryTotal `json:"counts"`
	// Computed are the totals of the movements fed.
	Computed gateway.FundTotals `json:"computed"`
	// Items counts the bookings judged (payments and refunds).
	Items int `json:"items"`
	// ExpectedFees is Σ of the fees the day's bookings cost (the trade
	// bill's, else the contracted rate's); ChargedFees is Σ of the fee
	// movements, as charged (a fee taken positive, a fee given back
	// negative). A fee netted into a payment's movement counts as charged.
	ExpectedFees gateway.Money `json:"expected_fees"`
	ChargedFees  gateway.Money `json:"charged_fees"`
	// Withdrawals is Σ of the WITHDRAWAL movements (negative: money out).
	Withdrawals gateway.Money `json:"withdrawals"`
}

// Where an item's expectation came from.
const (
	fromBill  uint8 = 1 << iota // the day's trade bill
	fromLocal                   // paydesk's records
	feeKnown                    // fee is the trade bill's, or the rate's (feeFromRate)
	feeFromRate
	earlier // found through a lookup: booked on another day
	judged
)

// fundItem is one booking (a payment or a refund) and the movements paired
// with it so far. It holds no pointer (fund_items.go).
type fundItem struct {
	// expect is the booking's money (positive); fee its fee as a bill
	// prints it (positive charged on a payment, negative given back on a
	// refund).
	expect, fee gateway.Money
	at          int64 // Unix µs (ns would wrap past 2262); noTime when the booking has none
	// Its numbers, in FundMatcher.text; a refund's own two are in
	// FundMatcher.refundNos[refundNos].
	outTradeNo, tradeNo textRef
	refundNos           int32
	refundKind          bool // a refund, else a payment
	flags               uint8
	// Whether a payment/refund movement, and a fee movement, was paired
	// (how many never mattered; two counts made an item 88 bytes, not 80).
	principalPaired, feesPaired bool

	principal, fees gateway.Money // Σ of paired payment/refund and fee movements
	firstLine       int32         // the fund bill line of the first movement paired
	types           uint32        // the movements' business types: bits of FundMatcher.typeNames
	flowNo          textRef       // the first movement's flow number
}

// refundNumbers are a refund item's request number and platform refund id:
// kept beside the items, since most items are payments.
type refundNumbers struct{ outRequestNo, refundID textRef }

// noTime is fundItem.at for a booking without a time.
const noTime = math.MinInt64

func unixMicro(t time.Time) int64 {
	if t.IsZero() {
		return noTime
	}
	return t.UnixMicro()
}

func (it *fundItem) time() time.Time {
	if it.at == noTime {
		return time.Time{}
	}
	return time.UnixMicro(it.at)
}

func (it *fundItem) kind() gateway.LineKind {
	if it.refundKind {
		return gateway.LineRefund
	}
	return gateway.LinePayment
}

// FundMatcher reconciles one fund bill, fed movement by movement, against
// the bookings of its day. Like Matcher, it keeps an index of the day's
// bookings, never the movements, and is used by one goroutine.
type FundMatcher struct {
	in         FundInput
	start, end time.Time
	zone       *time.Location
	window     time.Duration

	items     fundItems
	text      textArena // the items' numbers
	refundNos []refundNumbers
	// Payment items by platform trade number, and those without one by
	// order number.
	byTrade, byOrder *numberIndex
	// Refund items by request number, platform refund id, and (several per
	// key) by trade and order number: a day's refunds are few.
	byRequest  map[string]int32
	byRefundID map[string]int32
	refundsOf  map[string][]int32
	expecting  bool // Expect may still be called
	// typeNames are the business types the movements printed, each once:
	// an item keeps a bit per type it saw rather than a string per item.
	typeNames []string

	computed    gateway.FundTotals
	tally       [numCategories]CategoryTotal
	findings    []Finding
	withdrawals gateway.Money
	charged     gateway.Money
	finished    bool
	result      FundResult
}

// NewFundMatcher checks in and indexes paydesk's bookings of the day.
func NewFundMatcher(in FundInput) (*FundMatcher, error) {
	d, err := checkDay(in.Channel, in.Day, in.Zone, in.CrossDayWindow)
	if err != nil {
		return nil, err
	}
	m := &FundMatcher{in: in, start: d.start, end: d.end, zone: d.zone, window: d.window, expecting: true,
		byRequest: map[string]int32{}, byRefundID: map[string]int32{}, refundsOf: map[string][]int32{}}
	m.byTrade = newNumberIndex(in.Bookings, &m.text, func(i int32) textRef { return m.items.at(i).tradeNo })
	m.byOrder = newNumberIndex(0, &m.text, func(i int32) textRef { return m.items.at(i).outTradeNo })
	add := func(o *Order) error {
		if o.OutTradeNo == "" {
			return inputErr("order %d has no out_trade_no", m.items.n)
		}
		if o.Channel == in.Channel && o.Status.Paid() && m.onDay(orDate(o.PaidAt, o)) {
			m.expectLocalPayment(o.OutTradeNo, o.TradeNo, o.Amount, orDate(o.PaidAt, o), 0)
		}
		for _, e := range o.ExtraTrades {
			if e.Channel == in.Channel && m.onDay(orDate(e.PaidAt, o)) {
				m.expectLocalPayment(o.OutTradeNo, e.TradeNo, e.Amount, orDate(e.PaidAt, o), 0)
			}
		}
		return nil
	}
	switch {
	case in.EachOrder != nil && len(in.Orders) > 0:
		return nil, inputErr("both Orders and EachOrder are set")
	case in.EachOrder != nil:
		if err := in.EachOrder(func(o Order) error { return add(&o) }); err != nil {
			return nil, fmt.Errorf("recon: loading the day's orders: %w", err)
		}
	default:
		for i := range in.Orders {
			if err := add(&in.Orders[i]); err != nil {
				return nil, err
			}
		}
	}
	m.in.Orders = nil
	for i := range in.Refunds {
		r := &in.Refunds[i]
		if r.OutRequestNo == "" {
			return nil, inputErr("refund %d (order %s) has no out_request_no", i, r.OutTradeNo)
		}
		at, moved := r.moved()
		if r.Channel != in.Channel || !moved || !m.onDay(at) {
			continue
		}
		if _, dup := m.byRequest[r.OutRequestNo]; dup {
			return nil, inputErr("refund %s appears twice", r.OutRequestNo)
		}
		m.newRefundItem(r.OutTradeNo, "", r.OutRequestNo, "", r.Amount, at, fromLocal)
	}
	return m, nil
}

func (m *FundMatcher) onDay(t time.Time) bool { return !t.Before(m.start) && t.Before(m.end) }

// expectLocalPayment adds (or merges into the bill's) a payment paydesk
// booked.
func (m *FundMatcher) expectLocalPayment(outTradeNo, tradeNo string, amount gateway.Money, at time.Time, flags uint8) int32 {
	if i, ok := m.paymentItem(outTradeNo, tradeNo); ok {
		m.items.at(i).flags |= fromLocal | flags
		return i
	}
	i := m.items.add(fundItem{outTradeNo: m.text.add(outTradeNo), tradeNo: m.text.add(tradeNo), expect: amount,
		at: unixMicro(at), flags: fromLocal | flags})
	m.indexPayment(i, outTradeNo, tradeNo)
	return i
}

func (m *FundMatcher) paymentItem(outTradeNo, tradeNo string) (int32, bool) {
	if tradeNo != "" {
		return m.byTrade.find(tradeNo)
	}
	return m.byOrder.find(outTradeNo)
}

// indexPayment indexes payment item i by its numbers (the item's own,
// given as strings).
func (m *FundMatcher) indexPayment(i int32, outTradeNo, tradeNo string) {
	if tradeNo != "" {
		m.byTrade.put(tradeNo, i)
	} else {
		m.byOrder.put(outTradeNo, i)
	}
}

// newRefundItem adds a refund item; outRequestNo, when not empty, must be
// the caller's to keep (it becomes a key of byRequest).
func (m *FundMatcher) newRefundItem(outTradeNo, tradeNo, outRequestNo, refundID string, amount gateway.Money, at time.Time, flags uint8) int32 {
	m.refundNos = append(m.refundNos, refundNumbers{outRequestNo: m.text.add(outRequestNo), refundID: m.text.add(refundID)})
	i := m.items.add(fundItem{refundKind: true, outTradeNo: m.text.add(outTradeNo), tradeNo: m.text.add(tradeNo),
		refundNos: int32(len(m.refundNos) - 1), expect: amount, at: unixMicro(at), flags: flags})
	if outRequestNo != "" {
		m.byRequest[outRequestNo] = i
	}
	m.indexRefundNumbers(i)
	return i
}

// indexRefundNumbers indexes a refund item's platform refund id, trade and
// order numbers (the request number is indexed by the caller).
func (m *FundMatcher) indexRefundNumbers(i int32) {
	it := m.items.at(i)
	if id := m.refundNos[it.refundNos].refundID; !id.empty() {
		m.byRefundID[m.text.string(id)] = i
	}
	for _, k := range [...]string{"t" + m.text.string(it.tradeNo), "o" + m.text.string(it.outTradeNo)} {
		if len(k) > 1 && !containsIndex(m.refundsOf[k], i) {
			m.refundsOf[k] = append(m.refundsOf[k], i)
		}
	}
}

func containsIndex(s []int32, i int32) bool {
	for _, v := range s {
		if v == i {
			return true
		}
	}
	return false
}

// errLineNumber refuses a fund bill line number an item cannot hold.
func errLineNumber(line int) error {
	return fmt.Errorf("recon: fund bill line %d: past the %d lines a run can number", line, math.MaxInt32)
}

// Expect feeds lines of the day's trade bill, before any movement: each
// payment and refund line is a booking that should move money, with the
// fee the bill states. A booking paydesk also has is one item, with the
// bill's amounts (what the platform settles is what moves).
func (m *FundMatcher) Expect(lines []gateway.BillLine) error {
	if !m.expecting {
		return fmt.Errorf("recon: trade bill lines fed after movements")
	}
	for k := range lines {
		l := &lines[k]
		flags := fromBill | feeKnown
		switch l.Kind {
		case gateway.LinePayment:
			// The settled amount (Net) is what reaches the account: 商家实收 /
			// 应结订单金额, after merchant discounts.
			if i, ok := m.paymentItem(l.OutTradeNo, l.TradeNo); ok && m.items.at(i).flags&fromBill == 0 {
				it := m.items.at(i)
				it.expect, it.fee, it.at = l.Net, l.Fee, unixMicro(l.Time)
				it.flags |= flags
				continue
			}
			if i, ok := m.byOrder.find(l.OutTradeNo); ok && l.TradeNo != "" && m.items.at(i).tradeNo.empty() && m.items.at(i).flags&fromBill == 0 {
				// paydesk has the order without its trade number (imported).
				it := m.items.at(i)
				m.byOrder.remove(l.OutTradeNo)
				it.tradeNo, it.expect, it.fee, it.at = m.text.add(l.TradeNo), l.Net, l.Fee, unixMicro(l.Time)
				it.flags |= flags
				m.indexPayment(i, l.OutTradeNo, l.TradeNo)
				continue
			}
			i := m.items.add(fundItem{outTradeNo: m.text.add(l.OutTradeNo), tradeNo: m.text.add(l.TradeNo),
				expect: l.Net, fee: l.Fee, at: unixMicro(l.Time), flags: flags})
			m.indexPayment(i, l.OutTradeNo, l.TradeNo)
		case gateway.LineRefund:
			if st := l.RefundStatus; st != "" && st != gateway.RefundSuccess && st != gateway.RefundAbnormal {
				// A WeChat Pay bill lists a refund on the day it was asked
				// for, with the status of the morning it was cut: still
				// processing or closed, the line says no money moved for
				// it. paydesk's own record of its success (the day's
				// refunds) is what expects the movement then. ABNORMAL
				// says the money left the account (the buyer's bank
				// refused it on its way): a movement, as for SUCCESS.
				continue
			}
			if i, ok := m.byRequest[l.OutRequestNo]; ok && l.OutRequestNo != "" && m.items.at(i).flags&fromBill == 0 {
				it := m.items.at(i)
				it.expect, it.fee, it.at = -l.Net, l.Fee, unixMicro(l.Time)
				it.tradeNo, m.refundNos[it.refundNos].refundID = m.text.add(l.TradeNo), m.text.add(l.RefundID)
				it.flags |= flags
				m.indexRefundNumbers(i)
				continue
			}
			i := m.newRefundItem(l.OutTradeNo, l.TradeNo, strings.Clone(l.OutRequestNo), l.RefundID, -l.Net, l.Time, flags)
			m.items.at(i).fee = l.Fee
		default:
			return fmt.Errorf("recon: bill line %d: unknown kind %q", l.Line, l.Kind)
		}
	}
	return nil
}

// ErrFundFinished is returned by Movements after Finish.
var ErrFundFinished = fmt.Errorf("recon: fund matcher already finished")

// Movements feeds movements of the fund bill, in file order. Each is
// paired with the booking it belongs to, or reported on its own
// (WITHDRAWAL, FUND_UNEXPECTED). The matcher keeps no movement.
func (m *FundMatcher) Movements(lines []gateway.FundLine) error {
	if m.finished {
		return ErrFundFinished
	}
	if m.expecting {
		m.expecting = false
		m.fillExpectedFees()
	}
	for k := range lines {
		l := &lines[k]
		if l.Line > math.MaxInt32 {
			return errLineNumber(l.Line)
		}
		m.computed.Add(l)
		switch l.Kind {
		case gateway.FundWithdrawal:
			m.withdrawals += l.Amount
			m.movementOnly(Withdrawal, l, fmt.Sprintf("%s sent %s to the bank (%s).", m.in.Channel.DisplayName(), (-l.Amount).Yuan(), l.Type))
			continue
		case gateway.FundFee:
			m.charged -= l.Amount
		}
		i, ok := m.pair(l)
		if !ok {
			m.unexpected(l)
			continue
		}
		it := m.items.at(i)
		if l.Kind == gateway.FundFee {
			it.fees += l.Amount
			it.feesPaired = true
		} else {
			it.principal += l.Amount
			it.principalPaired = true
		}
		if it.firstLine == 0 {
			it.firstLine, it.flowNo = int32(l.Line), m.text.add(l.FlowNo)
		}
		it.types |= m.typeBit(l.Type)
	}
	return nil
}

// typeBit is the bit of a business type in fundItem.types; past 31 types
// they share the last bit.
func (m *FundMatcher) typeBit(t string) uint32 {
	for i, n := range m.typeNames {
		if n == t {
			return 1 << i
		}
	}
	if len(m.typeNames) < 32 {
		m.typeNames = append(m.typeNames, strings.Clone(t))
		return 1 << (len(m.typeNames) - 1)
	}
	return 1 << 31
}

// typesText names the business types of an item's movements ("收费+在线支付").
func (m *FundMatcher) typesText(bits uint32) string {
	var names []string
	for i, n := range m.typeNames {
		if bits&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	return strings.Join(names, "+")
}

// fillExpectedFees gives the bookings the trade bill did not state a fee
// for the contracted rate's fee.
func (m *FundMatcher) fillExpectedFees() {
	if m.in.FeeRate.IsZero() {
		return
	}
	for i := range m.items.n {
		it := m.items.at(i)
		if it.flags&feeKnown != 0 {
			continue
		}
		it.fee = m.in.FeeRate.Fee(it.expect)
		if it.refundKind {
			it.fee = -it.fee
		}
		it.flags |= feeKnown | feeFromRate
	}
}

// pair finds the booking a payment, refund or fee movement belongs to.
func (m *FundMatcher) pair(l *gateway.FundLine) (int32, bool) {
	switch l.Kind {
	case gateway.FundPayment:
		return m.pairPayment(l)
	case gateway.FundRefund:
		return m.pairRefund(l)
	case gateway.FundFee:
		if l.Amount > 0 {
			// A fee given back belongs to a refund of the trade.
			if i, ok := m.refundOfTrade(l, 0); ok {
				return i, true
			}
		}
		return m.pairPayment(l)
	}
	return 0, false
}

func (m *FundMatcher) pairPayment(l *gateway.FundLine) (int32, bool) {
	if l.TradeNo != "" {
		if i, ok := m.byTrade.find(l.TradeNo); ok {
			return i, true
		}
	}
	if l.OutTradeNo != "" {
		if i, ok := m.byOrder.find(l.OutTradeNo); ok {
			return i, true
		}
	}
	// A booking of another day: the movement came after midnight, or the
	// platform moved money for an order paydesk dates elsewhere.
	var o Order
	var found bool
	if l.TradeNo != "" && m.in.LookupTrade != nil {
		o, found = m.in.LookupTrade(l.TradeNo)
	}
	if !found && l.OutTradeNo != "" && m.in.LookupOrder != nil {
		o, found = m.in.LookupOrder(l.OutTradeNo)
		if found && o.TradeNo != "" && l.TradeNo != "" && o.TradeNo != l.TradeNo {
			found = false // another payment than the order's
		}
	}
	if !found || o.Channel != m.in.Channel || !o.Status.Paid() {
		return 0, false
	}
	tradeNo := cmp.Or(o.TradeNo, l.TradeNo)
	if i, ok := m.paymentItem(o.OutTradeNo, tradeNo); ok {
		return i, true
	}
	i := m.expectLocalPayment(o.OutTradeNo, tradeNo, o.Amount, orDate(o.PaidAt, &o), earlier)
	m.rateFee(i)
	return i, true
}

// rateFee gives a booking found late (through a lookup) the rate's fee.
func (m *FundMatcher) rateFee(i int32) {
	it := m.items.at(i)
	if m.in.FeeRate.IsZero() || it.flags&feeKnown != 0 {
		return
	}
	it.fee = m.in.FeeRate.Fee(it.expect)
	if it.refundKind {
		it.fee = -it.fee
	}
	it.flags |= feeKnown | feeFromRate
}

func (m *FundMatcher) pairRefund(l *gateway.FundLine) (int32, bool) {
	if l.OutRequestNo != "" {
		if i, ok := m.byRequest[l.OutRequestNo]; ok {
			return i, true
		}
	}
	if l.RefundID != "" {
		if i, ok := m.byRefundID[l.RefundID]; ok {
			return i, true
		}
	}
	if i, ok := m.refundOfTrade(l, -l.Amount); ok {
		return i, true
	}
	if l.OutRequestNo != "" && m.in.LookupRefund != nil {
		if r, ok := m.in.LookupRefund(l.OutRequestNo); ok && r.Channel == m.in.Channel {
			at, moved := r.moved()
			if !moved {
				return 0, false
			}
			i := m.newRefundItem(r.OutTradeNo, l.TradeNo, r.OutRequestNo, l.RefundID, r.Amount, at, fromLocal|earlier)
			m.rateFee(i)
			return i, true
		}
	}
	return 0, false
}

// refundOfTrade finds a refund of the movement's trade (or order) that has
// no movement of this kind yet, preferring one of the given amount (0: any).
// Alipay's 账务明细 names a refund by its trade alone.
func (m *FundMatcher) refundOfTrade(l *gateway.FundLine, amount gateway.Money) (int32, bool) {
	var cands []int32
	if l.TradeNo != "" {
		cands = m.refundsOf["t"+l.TradeNo]
	}
	if len(cands) == 0 && l.OutTradeNo != "" {
		cands = m.refundsOf["o"+l.OutTradeNo]
	}
	first := int32(-1)
	for _, i := range cands {
		it := m.items.at(i)
		busy := it.principalPaired
		if l.Kind == gateway.FundFee {
			busy = it.feesPaired
		}
		if busy {
			continue
		}
		if amount == 0 || it.expect == amount {
			return i, true
		}
		if first < 0 {
			first = i
		}
	}
	return first, first >= 0
}

// movementOnly reports a movement that stands alone (no booking).
func (m *FundMatcher) movementOnly(cat Category, l *gateway.FundLine, detail string) {
	f := Finding{
		Category:       cat,
		Kind:           gateway.LineKind(l.Kind),
		Side:           SidePlatform,
		OutTradeNo:     strings.Clone(l.OutTradeNo),
		TradeNo:        strings.Clone(cmp.Or(l.TradeNo, l.RefundID)),
		OutRequestNo:   strings.Clone(l.OutRequestNo),
		FlowNo:         strings.Clone(l.FlowNo),
		PlatformAmount: l.Amount,
		PlatformStatus: strings.Clone(l.Type),
		BillLine:       l.Line,
		Detail:         detail,
	}
	m.report(f, l.Amount)
}

// unexpected reports a movement nothing explains: 长款 when money came in, a
// deduction when it went out.
func (m *FundMatcher) unexpected(l *gateway.FundLine) {
	what := fmt.Sprintf("%s %s", l.Type, l.Remark)
	what = strings.TrimSpace(what)
	var detail string
	switch {
	case l.Amount >= 0:
		detail = fmt.Sprintf("%s credited %s (%s) that no order of paydesk's explains: 长款, money in the account without a booking.",
			m.in.Channel.DisplayName(), l.Amount.Yuan(), what)
	case l.Kind == gateway.FundRefund:
		detail = fmt.Sprintf("%s took %s for a refund (%s) that neither the trade bill nor paydesk has: money out without a booking.",
			m.in.Channel.DisplayName(), (-l.Amount).Yuan(), what)
	default:
		detail = fmt.Sprintf("%s took %s from the account (%s) that no refund or fee explains: a deduction or chargeback.",
			m.in.Channel.DisplayName(), (-l.Amount).Yuan(), what)
	}
	if no := cmp.Or(l.OutTradeNo, l.TradeNo); no != "" {
		detail = strings.TrimSuffix(detail, ".") + fmt.Sprintf("; it names %s.", no)
	}
	m.movementOnly(FundUnexpected, l, detail)
}

// report records a finding of this run; amount is what Counts add.
func (m *FundMatcher) report(f Finding, amount gateway.Money) {
	if f.Severity == "" {
		f.Severity = f.Category.Severity()
	}
	if f.Day.IsZero() {
		f.Day = m.start
	}
	f.Channel = m.in.Channel
	t := &m.tally[f.Category.index()]
	t.Count++
	t.Amount += amount
	m.findings = append(m.findings, f)
}

// Finish judges every booking by the movements paired with it and returns
// the result. Calling it again returns the same result.
func (m *FundMatcher) Finish() FundResult {
	if m.finished {
		return m.result
	}
	if m.expecting {
		m.expecting = false
		m.fillExpectedFees()
	}
	m.finished = true
	var expectedFees gateway.Money
	items := 0
	for i := range m.items.n {
		it := m.items.at(i)
		if it.flags&earlier == 0 || it.principalPaired || it.feesPaired {
			items++
		}
		if it.flags&earlier == 0 && it.flags&feeKnown != 0 {
			expectedFees += it.fee
		}
		m.judge(it)
	}
	Sort(m.findings)
	counts := make(map[Category]CategoryTotal, len(FundCategories))
	for _, c := range FundCategories {
		counts[c] = m.tally[c.index()]
	}
	m.result = FundResult{Findings: m.findings, Counts: counts, Computed: m.computed, Items: items,
		ExpectedFees: expectedFees, ChargedFees: m.charged, Withdrawals: m.withdrawals}
	return m.result
}

// judge decides one booking's category. A payment's money should come in
// (expect) and its fee go out (fee): as two movements (the fee as its own
// 收费 / 扣除交易手续费 line), as one netted movement (expect − fee), or — when
// the platform takes no fee that day — as the payment alone. A refund is
// the same with the signs turned: the refund goes out, the fee it gives
// back comes in, separately or netted. Anything else is FUND_AMOUNT_MISMATCH;
// nothing at all FUND_MISSING.
func (m *FundMatcher) judge(it *fundItem) {
	sign := gateway.Money(1)
	if it.refundKind {
		sign = -1
	}
	moved := it.principal + it.fees
	want := sign * it.expect // the principal as the account moves it
	netWant := want
	if it.flags&feeKnown != 0 {
		netWant = want - it.fee // a payment's fee goes out; a refund's fee (negative) comes back
	}
	if !it.principalPaired && !it.feesPaired {
		if it.flags&earlier != 0 {
			return
		}
		m.missing(it, netWant)
		return
	}
	tol := gateway.Money(0)
	if it.flags&feeFromRate != 0 {
		tol = 1 // the rate's fee is this side's rounding: a fen either way
	}
	ok := false
	switch {
	case !it.principalPaired:
		ok = false // a fee moved, the money did not
	case it.principal == want && !it.feesPaired:
		ok = true // no fee taken in the account that day
	case it.flags&feeKnown == 0:
		ok = it.principal == want
	case it.principal == want:
		ok = within(it.fees, -it.fee, tol)
	case !it.feesPaired && within(it.principal, netWant, tol):
		ok = true
		m.charged += want - it.principal // the fee was netted into the movement
	}
	if ok {
		t := &m.tally[FundMatched.index()]
		t.Count++
		t.Amount += moved
		return
	}
	f := m.itemFinding(it)
	if !it.principalPaired {
		f.Category = FundMissing
		f.LocalAmount, f.PlatformAmount = netWant, moved
		f.Detail = fmt.Sprintf("%s: the account shows only a fee of %s for it, and no %s.",
			m.bookingText(it), (-it.fees).Yuan(), m.principalText(it))
		m.report(f, netWant)
		return
	}
	f.Category = FundAmountMismatch
	f.LocalAmount, f.PlatformAmount = netWant, moved
	f.Detail = fmt.Sprintf("%s: the account moved %s, where %s was expected%s.",
		m.bookingText(it), moved.Yuan(), netWant.Yuan(), m.splitText(it, want))
	m.report(f, moved)
}

func within(a, b, tol gateway.Money) bool { return a-b >= -tol && a-b <= tol }

// missing reports a booking with no movement: 短款 for a payment.
func (m *FundMatcher) missing(it *fundItem, netWant gateway.Money) {
	f := m.itemFinding(it)
	f.Category = FundMissing
	f.Side = SideLocal
	f.LocalAmount = netWant
	if !it.refundKind {
		f.Detail = fmt.Sprintf("%s, but no money came into the account for it: 短款, expected %s.", m.bookingText(it), netWant.Yuan())
	} else {
		f.Detail = fmt.Sprintf("%s, but no money left the account for it: expected %s.", m.bookingText(it), netWant.Yuan())
	}
	if at := it.time(); !at.IsZero() && !at.Before(m.end.Add(-m.window)) && at.Before(m.end) {
		// The movement may be on the next day's fund bill.
		f.Severity = Warning
		f.Detail = strings.TrimSuffix(f.Detail, ".") + fmt.Sprintf("; booked at %s, within %s of midnight, so it may move on the next day.",
			at.In(m.zone).Format("15:04:05"), windowText(m.window))
	}
	m.report(f, netWant)
}

func (m *FundMatcher) itemFinding(it *fundItem) Finding {
	var nos refundNumbers
	if it.refundKind {
		nos = m.refundNos[it.refundNos]
	}
	f := Finding{
		Kind:         it.kind(),
		OutTradeNo:   m.text.string(it.outTradeNo),
		TradeNo:      m.text.string(cmp.Or(it.tradeNo, nos.refundID)),
		OutRequestNo: m.text.string(nos.outRequestNo),
		FlowNo:       m.text.string(it.flowNo),
		LocalStatus:  sourceText(it.flags),
		BillLine:     int(it.firstLine),
	}
	if it.principalPaired || it.feesPaired {
		f.PlatformStatus = m.typesText(it.types)
	}
	if it.flags&earlier != 0 {
		f.Day = time.Time{}
	}
	return f
}

func sourceText(flags uint8) string {
	switch {
	case flags&fromBill != 0 && flags&fromLocal != 0:
		return "bill+paydesk"
	case flags&fromBill != 0:
		return "bill"
	}
	return "paydesk"
}

// bookingText says what was booked and by whom.
func (m *FundMatcher) bookingText(it *fundItem) string {
	by := map[string]string{"bill+paydesk": "the trade bill and paydesk book", "bill": "the trade bill books", "paydesk": "paydesk books"}[sourceText(it.flags)]
	var s string
	outTradeNo := orNone(m.text.string(it.outTradeNo))
	if !it.refundKind {
		s = fmt.Sprintf("%s the payment of order %s (%s, trade %s)", capitalize(by), outTradeNo, it.expect.Yuan(), orNone(m.text.string(it.tradeNo)))
	} else {
		s = fmt.Sprintf("%s refund %s of %s on order %s", capitalize(by), orNone(m.text.string(m.refundNos[it.refundNos].outRequestNo)), it.expect.Yuan(), outTradeNo)
	}
	if it.flags&feeKnown != 0 && it.fee != 0 {
		src := "the bill's"
		if it.flags&feeFromRate != 0 {
			src = "the contracted rate's"
		}
		if !it.refundKind {
			s += fmt.Sprintf(" with %s fee of %s", src, it.fee.Yuan())
		} else {
			s += fmt.Sprintf(" giving back %s fee of %s", src, (-it.fee).Yuan())
		}
	}
	if it.flags&earlier != 0 {
		s += fmt.Sprintf(", dated %s", it.time().In(m.zone).Format("2006-01-02 15:04:05"))
	}
	return s
}

func (m *FundMatcher) principalText(it *fundItem) string {
	if !it.refundKind {
		return "payment coming in"
	}
	return "refund going out"
}

// splitText shows how the movement splits into principal and fees.
func (m *FundMatcher) splitText(it *fundItem, want gateway.Money) string {
	if !it.feesPaired {
		return ""
	}
	return fmt.Sprintf(" (%s of %s %s and %s of fees)", it.principal.Yuan(), want.Yuan(), m.principalText(it), it.fees.Yuan())
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
