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
	Category Category        `json:"category"`
	Severity Severity        `json:"severity"`
	Channel  gateway.Channel `json:"channel"`
	// Kind says whether the item is a payment or a refund.
	Kind gateway.LineKind `json:"kind"`
	// Side is the side the item was seen on when only one side has it
	// (MISSING_LOCAL: platform; MISSING_PLATFORM: local); for CROSS_DAY it
	// is the side that booked first and waits for the other. Empty when both
	// sides were compared.
	Side Side `json:"side,omitempty"`

	OutTradeNo   string `json:"out_trade_no"`
	TradeNo      string `json:"trade_no,omitempty"`       // the platform's trade number (the bill's, else paydesk's)
	OutRequestNo string `json:"out_request_no,omitempty"` // refunds only
	// FlowNo is the account movement's own number (fund-flow runs): the
	// first movement paired with the booking, or the movement itself.
	FlowNo string `json:"flow_no,omitempty"`

	LocalAmount    gateway.Money `json:"local_amount"`              // 0 when paydesk has no record
	PlatformAmount gateway.Money `json:"platform_amount"`           // 0 when the bill has no line
	LocalStatus    string        `json:"local_status,omitempty"`    // order or refund status; empty without a record
	PlatformStatus string        `json:"platform_status,omitempty"` // the bill line's state column; empty without a line
	// NotifyStatus is for payments with a local order: "verified",
	// "rejected" or "missing".
	NotifyStatus string `json:"notify_status,omitempty"`
	// BillLine is the line in the bill of Day (1-based); 0 when no line.
	BillLine int `json:"bill_line,omitempty"`
	// Day is the business day the item was first found on: this run's day,
	// or for a suspense item (carried, settled or escalated) the day it was
	// first held. A suspense item's BillLine is a line of that day's bill.
	Day time.Time `json:"day"`
	// Detail is one plain sentence for a finance person.
	Detail string `json:"detail"`
}

// Notify statuses of a Finding.
const (
	NotifyStatusVerified = "verified"
	NotifyStatusRejected = "rejected"
	NotifyStatusMissing  = "missing"
)

// CategoryTotal counts the items of one category.
type CategoryTotal struct {
	Count int `json:"count"`
	// Amount is the signed money of the items as they move the merchant's
	// balance: payments positive, refunds negative; the bill's amount where
	// the bill has the item, else paydesk's. With everything MATCHED,
	// Counts[MATCHED].Amount equals Computed.Net.
	Amount gateway.Money `json:"amount"`
}

// Result is the outcome of one run.
type Result struct {
	// Findings is every item of this run that did not end MATCHED, in
	// report order (see Sort).
	Findings []Finding `json:"findings"`
	// Counts has an entry for every category, MATCHED included. For every
	// category but MATCHED, Counts[c].Count is the number of Findings of c.
	Counts map[Category]CategoryTotal `json:"counts"`
	// Computed are the totals of the lines fed. The bill's stated totals are
	// checked against its lines by the bill reader (gateway.BillReader).
	Computed gateway.BillTotals `json:"computed"`
	// Fees is Σ of the lines' fees (charged minus returned).
	Fees gateway.Money `json:"fees"`
	// ExpectedFees is Σ of the fees the contracted rate gives for the lines
	// (returned on refunds), beside Fees; FeeChecked says a rate was given
	// (without one ExpectedFees is zero and no FEE_MISMATCH is raised).
	ExpectedFees gateway.Money `json:"expected_fees"`
	FeeChecked   bool          `json:"fee_checked"`
	// Net is the settlement after fees: Σ line Net − Fees, what the merchant
	// actually receives for the day (Computed.Net is before fees).
	Net gateway.Money `json:"net"`
	// Carry is the suspense to pass as Suspense to the next day's run: the
	// CROSS_DAY items of this run and the older ones still waiting.
	Carry []Finding `json:"carry"`
	// Settled are the suspense items whose other side turned up in this
	// run, as carried but with Category set to what the pair ended in
	// (MATCHED normally; otherwise the pair is also in Findings).
	Settled []Finding `json:"settled"`
	// Notices are MATCHED items worth a look, never counted as problems: a
	// refund made in the platform's console, or a booking the platform made
	// on a later day than paydesk without it having been held.
	Notices []Finding `json:"notices"`
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
