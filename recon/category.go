package recon

// Category is where one reconciliation item ended (ARCHITECTURE.md §5). The
// string values are stored and exported as they are: never rename them.
type Category string

const (
	Matched          Category = "MATCHED"
	MissingLocal     Category = "MISSING_LOCAL"
	UnpaidLocal      Category = "UNPAID_LOCAL"
	MissingPlatform  Category = "MISSING_PLATFORM"
	AmountMismatch   Category = "AMOUNT_MISMATCH"
	RefundMismatch   Category = "REFUND_MISMATCH"
	DuplicatePayment Category = "DUPLICATE_PAYMENT"
	NotifyMissing    Category = "NOTIFY_MISSING"
	NotifyRejected   Category = "NOTIFY_REJECTED"
	CrossDay         Category = "CROSS_DAY"
	// FeeMismatch: the bill line's fee differs from the contracted rate's
	// by more than a fen (checked only when a rate is configured).
	FeeMismatch Category = "FEE_MISMATCH"

	// Fund-flow reconciliation (FundMatcher): the account's movements
	// against the day's payments, refunds and fees.

	// FundMatched: the money of a payment or refund moved as booked.
	FundMatched Category = "FUND_MATCHED"
	// FundMissing (短款): a payment or refund the trade bill or paydesk
	// books, with no movement in the account.
	FundMissing Category = "FUND_MISSING"
	// FundUnexpected: a movement nothing explains — money in that no order
	// explains (长款), or money out that no refund or fee explains (a
	// deduction, a chargeback).
	FundUnexpected Category = "FUND_UNEXPECTED"
	// FundAmountMismatch: the account moved another amount than the
	// payment or refund (with its fee) books.
	FundAmountMismatch Category = "FUND_AMOUNT_MISMATCH"
	// Withdrawal: money sent to the merchant's bank (提现/结算): listed and
	// totalled, not an error.
	Withdrawal Category = "WITHDRAWAL"
)

// Categories lists every category of a trade-bill run in report order: the
// critical ones first, MATCHED last. Findings are sorted by this order
// within a severity.
var Categories = []Category{
	MissingLocal, DuplicatePayment, AmountMismatch, RefundMismatch,
	UnpaidLocal, MissingPlatform, NotifyRejected, FeeMismatch,
	NotifyMissing, CrossDay,
	Matched,
}

// FundCategories lists every category of a fund-flow run in report order,
// FUND_MATCHED last.
var FundCategories = []Category{
	FundUnexpected, FundMissing, FundAmountMismatch, Withdrawal, FundMatched,
}

// CategoriesOf is the category list of a run kind: FundCategories for a
// fund-flow run (RunFunds), else Categories.
func CategoriesOf(kind RunKind) []Category {
	if kind == RunFunds {
		return FundCategories
	}
	return Categories
}

// RunKind says what a run reconciled: the trade bill or the fund bill.
type RunKind string

const (
	RunTrade RunKind = "trade"
	RunFunds RunKind = "funds"
)

// numCategories sizes the per-category tallies the matchers keep in an
// array, so counting a line is an index and not a map write.
const numCategories = 16

// matchedIndex is Matched.index(), for the per-line fast path.
const matchedIndex = 10

// index is c's position in Categories followed by FundCategories, or -1. A
// switch rather than a search because every bill line is tallied through
// it.
func (c Category) index() int {
	switch c {
	case MissingLocal:
		return 0
	case DuplicatePayment:
		return 1
	case AmountMismatch:
		return 2
	case RefundMismatch:
		return 3
	case UnpaidLocal:
		return 4
	case MissingPlatform:
		return 5
	case NotifyRejected:
		return 6
	case FeeMismatch:
		return 7
	case NotifyMissing:
		return 8
	case CrossDay:
		return 9
	case Matched:
		return 10
	case FundUnexpected:
		return 11
	case FundMissing:
		return 12
	case FundAmountMismatch:
		return 13
	case Withdrawal:
		return 14
	case FundMatched:
		return 15
	}
	return -1
}

// Valid reports whether c is one of the categories of either run kind.
func (c Category) Valid() bool { return c.index() >= 0 }

// Kind is the run kind whose categories c belongs to.
func (c Category) Kind() RunKind {
	if c.index() >= len(Categories) {
		return RunFunds
	}
	return RunTrade
}

// IsMatch reports whether c is the "nothing to do" category of its kind
// (MATCHED, FUND_MATCHED): items counted, never findings.
func (c Category) IsMatch() bool { return c == Matched || c == FundMatched }

// Severity says how urgently a finding needs a person.
type Severity string

const (
	// Critical: money moved without a local record, was taken twice, or in
	// a different amount than the order — money may be lost until someone acts.
	Critical Severity = "critical"
	// Warning: the records disagree and need a query, a replay or a look,
	// but no money is known to be lost.
	Warning Severity = "warning"
	// Info: bookkeeping (held for the next day, or the callback path), no
	// money at stake.
	Info Severity = "info"
)

func (s Severity) rank() int {
	switch s {
	case Critical:
		return 0
	case Warning:
		return 1
	}
	return 2
}

// Severity is the severity a finding of this category carries by default.
// It is the ARCHITECTURE.md §5 rule: critical when money moved without a local
// record (MISSING_LOCAL), was taken twice (DUPLICATE_PAYMENT) or in another
// amount (AMOUNT_MISMATCH). REFUND_MISMATCH is a warning by default but a
// finding is raised to critical when the platform paid money back that
// paydesk has no successful refund of that amount for — see Finding.Severity.
//
// Fund-flow categories follow the same rule: money that moved without a
// record (FUND_UNEXPECTED), money that did not arrive or leave as booked
// (FUND_MISSING, FUND_AMOUNT_MISMATCH) are critical — a FUND_MISSING near
// midnight is lowered to a warning by the matcher, since the movement may
// be on the next day's bill; a fee off the contract (FEE_MISMATCH) is a
// warning; a withdrawal is information.
func (c Category) Severity() Severity {
	switch c {
	case MissingLocal, DuplicatePayment, AmountMismatch,
		FundUnexpected, FundMissing, FundAmountMismatch:
		return Critical
	case UnpaidLocal, MissingPlatform, RefundMismatch, NotifyRejected, FeeMismatch:
		return Warning
	}
	return Info
}

// Critical reports whether findings of this category are always critical.
func (c Category) Critical() bool { return c.Severity() == Critical }

// Action is the usual next step for a finding of this category (ARCHITECTURE.md §5),
// for the console and exports.
func (c Category) Action() string {
	switch c {
	case MissingLocal:
		return "investigate; refund if foreign"
	case UnpaidLocal:
		return "query the trade or replay its notification"
	case MissingPlatform:
		return "query the trade; suspect a forged callback"
	case AmountMismatch:
		return "investigate"
	case RefundMismatch:
		return "query the refund"
	case DuplicatePayment:
		return "refund one payment"
	case NotifyMissing:
		return "check the callback path"
	case NotifyRejected:
		return "replay the notification after fixing the cause"
	case CrossDay:
		return "none: held, settles on the next run"
	case FeeMismatch:
		return "ask the platform"
	case FundMissing:
		return "ask the platform where the money is"
	case FundUnexpected:
		return "find what the movement is; dispute a deduction"
	case FundAmountMismatch:
		return "ask the platform about the difference"
	case Withdrawal:
		return "none: check it reached the bank"
	}
	return "none"
}

// Side names where a booking was seen.
type Side string

const (
	// SideLocal: paydesk's own record (an order's payment or a refund).
	SideLocal Side = "local"
	// SidePlatform: a line of the platform's bill.
	SidePlatform Side = "platform"
)
