package recon

import (
	"cmp"
	"slices"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// Finding is one reconciliation item that did not simply match, or (in
// Result.Settled and Result.Notices) one worth showing although it did.
type Finding struct {
	Category Category
	Severity Severity
	Channel  gateway.Channel
	// Kind says whether the item is a payment or a refund.
	Kind gateway.LineKind
	// Side is the side the item was seen on when only one side has it
	// (MISSING_LOCAL: platform; MISSING_PLATFORM: local); for CROSS_DAY it
	// is the side that booked first and waits for the other. Empty when both
	// sides were compared.
	Side Side

	OutTradeNo   string
	TradeNo      string // the platform's trade number (the bill's, else paydesk's)
	OutRequestNo string // refunds only

	LocalAmount    gateway.Money // 0 when paydesk has no record
	PlatformAmount gateway.Money // 0 when the bill has no line
	LocalStatus    string        // order or refund status; empty without a record
	PlatformStatus string        // the bill line's state column; empty without a line
	// NotifyStatus is for payments with a local order: "verified",
	// "rejected" or "missing".
	NotifyStatus string
	// BillLine is the line in the bill of Day (1-based); 0 when no line.
	BillLine int
	// Day is the business day the item was first found on: this run's day,
	// or for a suspense item (carried, settled or escalated) the day it was
	// first held. A suspense item's BillLine is a line of that day's bill.
	Day time.Time
	// Detail is one plain sentence for a finance person.
	Detail string
}

// Notify statuses of a Finding.
const (
	NotifyStatusVerified = "verified"
	NotifyStatusRejected = "rejected"
	NotifyStatusMissing  = "missing"
)

// CategoryTotal counts the items of one category.
type CategoryTotal struct {
	Count int
	// Amount is the signed money of the items as they move the merchant's
	// balance: payments positive, refunds negative; the bill's amount where
	// the bill has the item, else paydesk's. With everything MATCHED,
	// Counts[MATCHED].Amount equals Computed.Net.
	Amount gateway.Money
}

// Result is the outcome of one run.
type Result struct {
	// Findings is every item of this run that did not end MATCHED, in
	// report order (see Sort).
	Findings []Finding
	// Counts has an entry for every category, MATCHED included. For every
	// category but MATCHED, Counts[c].Count is the number of Findings of c.
	Counts map[Category]CategoryTotal
	// Computed are the totals of the lines fed. The bill's stated totals are
	// checked against its lines by the bill reader (gateway.BillReader).
	Computed gateway.BillTotals
	// Fees is Σ of the lines' fees (charged minus returned).
	Fees gateway.Money
	// Net is the settlement after fees: Σ line Net − Fees, what the merchant
	// actually receives for the day (Computed.Net is before fees).
	Net gateway.Money
	// Carry is the suspense to pass as Suspense to the next day's run: the
	// CROSS_DAY items of this run and the older ones still waiting.
	Carry []Finding
	// Settled are the suspense items whose other side turned up in this
	// run, as carried but with Category set to what the pair ended in
	// (MATCHED normally; otherwise the pair is also in Findings).
	Settled []Finding
	// Notices are MATCHED items worth a look, never counted as problems: a
	// refund made in the platform's console, or a booking the platform made
	// on a later day than paydesk without it having been held.
	Notices []Finding
}

// Sort puts findings in report order: by severity, then category (the order
// of Categories), then out_trade_no, out_request_no, trade_no, bill line and
// day. Two runs over the same records report in the same order whatever
// order the store returned them in, so golden tests and exports are stable.
func Sort(fs []Finding) {
	slices.SortStableFunc(fs, compareFindings)
}

func compareFindings(a, b Finding) int {
	if c := cmp.Compare(a.Severity.rank(), b.Severity.rank()); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Category.index(), b.Category.index()); c != 0 {
		return c
	}
	if c := cmp.Compare(a.OutTradeNo, b.OutTradeNo); c != 0 {
		return c
	}
	if c := cmp.Compare(a.OutRequestNo, b.OutRequestNo); c != 0 {
		return c
	}
	if c := cmp.Compare(a.TradeNo, b.TradeNo); c != 0 {
		return c
	}
	if c := cmp.Compare(a.BillLine, b.BillLine); c != 0 {
		return c
	}
	return a.Day.Compare(b.Day)
}
