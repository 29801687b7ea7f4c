package recon

import (
	"errors"
	"fmt"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// OrderStatus is a local order's state as the store keeps it.
type OrderStatus string

const (
	OrderPending           OrderStatus = "PENDING"
	OrderPaid              OrderStatus = "PAID"
	OrderClosed            OrderStatus = "CLOSED"
	OrderRefunded          OrderStatus = "REFUNDED"
	OrderPartiallyRefunded OrderStatus = "PARTIALLY_REFUNDED"
)

// Paid reports whether money was received for the order at some point: a
// refunded order was paid first, and its payment is still on the bill of the
// day it was paid.
func (s OrderStatus) Paid() bool {
	return s == OrderPaid || s == OrderRefunded || s == OrderPartiallyRefunded
}

// How an order became PAID (orders.paid_via).
const (
	PaidViaNotify = "notify"
	PaidViaQuery  = "query"
	PaidViaImport = "import"
)

// Order is a local order with the notification facts recon needs.
type Order struct {
	OutTradeNo string
	// Channel is the platform the order was paid (or is to be paid) on, and
	// so the channel of its recorded payment (TradeNo).
	Channel gateway.Channel
	Amount  gateway.Money
	Status  OrderStatus
	// TradeNo is the platform trade number of the recorded payment; empty
	// when unpaid, or for an imported order that came without one (the
	// first bill line for the order is then taken as that payment).
	TradeNo string
	// PaidAt must be the platform's payment time (notification gmt_payment or
	// success_time, query send_pay_date, the import's paid_at), not the time
	// paydesk learned of it: the business day of PaidAt is the bill the
	// payment is expected on. Zero falls back to CreatedAt.
	CreatedAt, PaidAt time.Time
	PaidVia           string // PaidViaNotify, PaidViaQuery or PaidViaImport
	// NotifyVerified: a verified payment notification for this order was
	// received (whether or not it was the one that made the order PAID).
	NotifyVerified bool
	// NotifyRejected: some notification for this order failed verification
	// or apply. It counts only while no verified one was received.
	NotifyRejected bool
	// ExtraTrades are further verified payments of this order under other
	// trade numbers, which the callback intake recorded as duplicates
	// instead of applying (ARCHITECTURE.md §3 rule 3).
	ExtraTrades []Payment
}

// Payment is one further payment of an order.
type Payment struct {
	Channel gateway.Channel
	TradeNo string
	Amount  gateway.Money
	PaidAt  time.Time // the platform's payment time; decides its bill day
}

// Refund sources.
const (
	RefundSourceLocal = "local" // requested through paydesk
	// RefundSourcePlatform: made in the platform's console; paydesk learned
	// of it from a refund notification.
	RefundSourcePlatform = "platform"
)

// Refund is a local refund request.
type Refund struct {
	OutRequestNo string
	OutTradeNo   string
	Channel      gateway.Channel
	Amount       gateway.Money
	Status       gateway.RefundStatus // PENDING, SUCCESS, FAILED, ABNORMAL
	Source       string               // RefundSourceLocal or RefundSourcePlatform
	// RefundedAt is the platform's success time (refund query or
	// notification); its business day is the bill the refund is expected
	// on where bills date refunds by success.
	RefundedAt time.Time
	// RequestedAt is when the refund was asked for; its business day is
	// the bill the refund is expected on where bills date refunds by
	// request (Input.RefundDating).
	RequestedAt time.Time
	// MovedAt is when its money left the merchant's account, for fund-flow
	// runs: when it went ABNORMAL (the platform had taken the money, the
	// buyer's bank refused it; a later payout moves nothing more), else
	// when it succeeded. Zero: RefundedAt.
	MovedAt time.Time
}

// moved says whether the refund's money left the account, and when.
func (r *Refund) moved() (time.Time, bool) {
	switch r.Status {
	case gateway.RefundSuccess, gateway.RefundAbnormal:
		at := r.MovedAt
		if at.IsZero() {
			at = r.RefundedAt
		}
		return at, !at.IsZero()
	}
	return time.Time{}, false
}

// Defaults for Input fields left zero.
const (
	// DefaultSuspenseDays is ARCHITECTURE.md §5's default: a CROSS_DAY item waits for
	// three later bills before it escalates.
	DefaultSuspenseDays = 3
	// DefaultCrossDayWindow: the platforms' booking clock and the time in a
	// notification differ by seconds, and a first notification arrives within
	// a minute or two; ten minutes covers both with room to spare while still
	// raising a payment with no bill line at, say, 23:30 on the same day's
	// run instead of a day later.
	DefaultCrossDayWindow = 10 * time.Minute
)

// Input is everything one reconciliation run for (Channel, Day) needs.
type Input struct {
	Channel gateway.Channel
	// Day is the start (00:00) of the business day in Zone. A time that is
	// not the start of a day there is an error: a UTC midnight would be 08:00
	// in Shanghai and shift every boundary by eight hours.
	Day time.Time
	// Zone is the platforms' zone; nil means gateway.Shanghai.
	Zone *time.Location

	// Orders are the local orders that have a payment on this channel whose
	// business day is Day: PaidAt (or, without PaidAt, CreatedAt) on Day,
	// and orders with an ExtraTrades entry on this channel paid on Day.
	// Other orders may be included (say, every order created on Day): those
	// with nothing due on this bill are ignored unless a bill line names
	// them. Out trade numbers must be unique. The matcher keeps a compact
	// record of each order, not the slice.
	Orders []Order
	// EachOrder, when set instead of Orders, streams the same orders: it
	// calls fn once per order and returns fn's error or its own (the shape
	// of store.EachPaidOrder). A million-order day then never exists as a
	// slice of Orders. An Order's strings are fn's only until it returns:
	// the matcher copies what it keeps.
	EachOrder func(fn func(Order) error) error
	// Refunds are the local refunds of this channel that the bill of Day
	// is expected to list: those that succeeded on Day (RefundedAt), or,
	// where RefundDating is gateway.RefundsDatedAtRequest, those asked for
	// on Day (RequestedAt) whatever became of them. Pending or failed ones
	// may be included and are ignored unless a bill line names them.
	// Request numbers must be unique.
	Refunds []Refund
	// RefundDating is the platform's rule for the day a refund line is on
	// (gateway.BillFormat.RefundDating).
	RefundDating gateway.RefundDating
	// LookupOrder finds any local order by number, any channel, for bill
	// lines whose order is not in Orders (paid on another day, unpaid, or
	// an order of the other channel). nil finds nothing.
	LookupOrder func(outTradeNo string) (Order, bool)
	// LookupRefund finds any local refund by request number. nil finds
	// nothing.
	LookupRefund func(outRequestNo string) (Refund, bool)

	// Suspense is the Carry of the run for the latest earlier day of this
	// channel: the CROSS_DAY items still waiting for their other side.
	Suspense []Finding
	// SuspenseDays is how many later days' bills a CROSS_DAY item waits for
	// before it escalates (0 means DefaultSuspenseDays).
	SuspenseDays int
	// CrossDayWindow is how close before midnight a local booking without a
	// bill line must be to be held as CROSS_DAY rather than reported missing
	// (0 means DefaultCrossDayWindow).
	CrossDayWindow time.Duration
	// FeeRate is the contracted service-fee rate of the channel; when set,
	// a line whose fee is more than a fen off the rate's is FEE_MISMATCH
	// (see the package doc) and Result.ExpectedFees sums the rate's fees.
	FeeRate gateway.FeeRate

	// Spill, when set, makes a new empty temporary file each time it is
	// called; a day of MemoryOrders orders or more is then matched in parts
	// through such files instead of in memory (see spill.go), and the run
	// must be finished with Close. nil matches every day in memory.
	Spill func() (SpillFile, error)
	// MemoryOrders is how many orders are indexed at once when Spill is set
	// (0 means DefaultMemoryOrders).
	MemoryOrders int
	// Spool, when set, holds the bill's lines read while NewMatcher indexes
	// the orders; the caller gives it to TakeLines once NewMatcher returns,
	// before any further Lines. NewMatcher does not read it.
	Spool *LineSpool
}

// ErrInput is wrapped by every error about an Input.
var ErrInput = errors.New("invalid reconciliation input")

func inputErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInput}, args...)...)
}
