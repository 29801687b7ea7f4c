package recon

// Category is where one reconciliation item ended (ARCHITECTURE.md §5). The string
// values are stored and exported as they are: never rename them.
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
)

// Categories lists every category in report order: the critical ones first,
// MATCHED last. Findings are sorted by this order within a severity.
var Categories = []Category{
	MissingLocal, DuplicatePayment, AmountMismatch, RefundMismatch,
	UnpaidLocal, MissingPlatform, NotifyRejected,
	NotifyMissing, CrossDay,
	Matched,
}

// numCategories sizes the per-category tallies the matcher keeps in an
// array, so counting a line is an index and not a map write.
const numCategories = 10

// matchedIndex is Matched.index(), for the per-line fast path.
const matchedIndex = 9

// index is c's position in Categories, or -1. A switch rather than a search
// because every bill line is tallied through it.
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
	case NotifyMissing:
		return 7
	case CrossDay:
		return 8
	case Matched:
		return 9
	}
	return -1
}

// Valid reports whether c is one of the ten categories.
func (c Category) Valid() bool { return c.index() >= 0 }

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
func (c Category) Severity() Severity {
	switch c {
	case MissingLocal, DuplicatePayment, AmountMismatch:
		return Critical
	case UnpaidLocal, MissingPlatform, RefundMismatch, NotifyRejected:
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
