package gateway

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// BillKind says what a bill records.
type BillKind string

const (
	// TradeBill: the payments and refunds of a day (Alipay 业务明细,
	// WeChat Pay 交易账单).
	TradeBill BillKind = "trade"
	// FundBill: the movements of the merchant's account (Alipay 账务明细,
	// WeChat Pay 资金账单).
	FundBill BillKind = "funds"
)

// RefundDating says which moment of a refund places its line in a bill.
type RefundDating int

const (
	// RefundsDatedAtSuccess: a refund is on the bill of the day it
	// succeeded (Alipay: 完成时间).
	RefundsDatedAtSuccess RefundDating = iota
	// RefundsDatedAtRequest: a refund is on the bill of the day it was
	// asked for, and the status the line prints is never updated (WeChat
	// Pay: 交易时间 on a refund row is when the refund was initiated).
	RefundsDatedAtRequest
)

// BillFormat is one platform's parser for one kind of bill. Platform
// packages register theirs (RegisterBillFormat) from an init function, so
// that whoever reads bills (ops) finds a parser by channel without
// importing the platform packages.
type BillFormat struct {
	Channel Channel
	Kind    BillKind
	// Open starts reading a trade bill (Kind TradeBill). name is used in
	// error messages; r is the bill as kept or downloaded. A reader that
	// is also an io.ReaderAt and an io.Seeker (an *os.File) lets a parser
	// read a zip without holding it in memory.
	Open func(name string, r io.Reader, opt BillOptions) (BillReader, error)
	// OpenFunds starts reading a fund bill (Kind FundBill), as Open does a
	// trade bill: held to the same options, its movements instead of
	// bookings.
	OpenFunds func(name string, r io.Reader, opt BillOptions) (FundReader, error)
	// RefundDating is the platform's rule for dating refund lines (trade
	// bills).
	RefundDating RefundDating
}

// BillOptions say what a bill must be. A bill that is not what they say is
// refused with a *BillError naming the line that shows it.
type BillOptions struct {
	// Zone is the zone the bill's times are read in; nil means Shanghai.
	Zone *time.Location
	// Day, when not zero, is the business day the bill must cover: its
	// stated date window must be that day, and every row must be dated on
	// it by the platform's own dating rule. Any time on the day will do.
	Day time.Time
	// Merchant, when set, is the merchant the bill must belong to: WeChat
	// Pay's mchid, Alipay's PID (2088…, the partner id).
	Merchant string
	// Account, when set, is the exact account the bill must state (what
	// BillAccount returned for the workspace's first bill).
	Account string
	// Limits bound what the bill may inflate to; zero fields take
	// DefaultBillLimits.
	Limits BillLimits
	// Kept says the bill is one paydesk kept after every check, read again
	// by a caller that checks its hash at its end: its rows are not checked
	// for repeats again (that check's table is the largest thing a parse
	// holds, 160 MB at five million rows). A file changed since it was
	// kept fails that hash check, repeats and all.
	Kept bool
	// TextRows, when not zero, lets a reader write a row's strings over
	// once TextRows more rows were read after it, instead of leaving them
	// to the collector (a ten-million-movement fund bill made 1.3 GB of
	// them): for a caller that is done with each row within TextRows rows
	// of its parse and copies what it keeps longer (the fund run, for its
	// movements and the trade bill it expects bookings from). A reader may
	// ignore it; zero keeps every string as long as it is referenced.
	TextRows int
}

// BillAccount is implemented by readers of bills that state whose they
// are: Account returns the merchant account the bill states (Alipay's
// #账号, PID + 4 digits; WeChat Pay's merchant of its rows), once the
// header (Alipay) or the rows (WeChat) have been read.
type BillAccount interface {
	Account() string
}

// BillLimits are the hard caps on one bill. A bill is refused at the first
// byte or line past them, whatever its rows would have said.
type BillLimits struct {
	// MaxInflated bounds the bytes a compressed bill (zip entry, gzip)
	// inflates to, and the bytes of a plain one.
	MaxInflated int64
	// MaxLines bounds the lines of the bill file.
	MaxLines int
}

// DefaultBillLimits are twice the largest day paydesk is measured on
// (10 million lines of about 260 bytes, see bench/README.md) and far below
// what would exhaust a host: a real bill never comes near them.
var DefaultBillLimits = BillLimits{MaxInflated: 8 << 30, MaxLines: 20_000_000}

// WithDefaults fills the zero fields from DefaultBillLimits.
func (l BillLimits) WithDefaults() BillLimits {
	if l.MaxInflated <= 0 {
		l.MaxInflated = DefaultBillLimits.MaxInflated
	}
	if l.MaxLines <= 0 {
		l.MaxLines = DefaultBillLimits.MaxLines
	}
	return l
}

// Errors a refused bill wraps (inside a *BillError), for errors.Is.
var (
	// ErrBillMerchant: the bill belongs to another merchant.
	ErrBillMerchant = errors.New("bill of another merchant")
	// ErrBillDay: the bill, or a row of it, is of another day.
	ErrBillDay = errors.New("bill of another day")
	// ErrBillTooLarge: past a BillLimits cap.
	ErrBillTooLarge = errors.New("bill larger than paydesk accepts")
	// ErrBillRepeated: a row repeats an earlier row's key. A real bill
	// never has the same (trade number, business type, request number)
	// twice; a file that does is damaged or made to exhaust memory.
	ErrBillRepeated = errors.New("bill repeats a row")
)

var (
	formatsMu sync.RWMutex
	formats   = map[billFormatKey]BillFormat{}
)

type billFormatKey struct {
	ch   Channel
	kind BillKind
}

// RegisterBillFormat makes a parser available by channel and kind. A
// second registration of the same pair panics: it is a programming error.
func RegisterBillFormat(f BillFormat) {
	switch {
	case f.Channel == "" || f.Kind == "":
		panic("gateway: RegisterBillFormat needs a channel and a kind")
	case f.Kind == TradeBill && (f.Open == nil || f.OpenFunds != nil):
		panic("gateway: a trade bill format has Open, not OpenFunds")
	case f.Kind == FundBill && (f.OpenFunds == nil || f.Open != nil):
		panic("gateway: a fund bill format has OpenFunds, not Open")
	case f.Kind != TradeBill && f.Kind != FundBill:
		panic(fmt.Sprintf("gateway: unknown bill kind %q", f.Kind))
	}
	formatsMu.Lock()
	defer formatsMu.Unlock()
	k := billFormatKey{f.Channel, f.Kind}
	if _, dup := formats[k]; dup {
		panic(fmt.Sprintf("gateway: %s %s bill format registered twice", f.Channel, f.Kind))
	}
	formats[k] = f
}

// LookupBillFormat returns the parser registered for a channel's bills of
// a kind.
func LookupBillFormat(ch Channel, kind BillKind) (BillFormat, error) {
	formatsMu.RLock()
	defer formatsMu.RUnlock()
	f, ok := formats[billFormatKey{ch, kind}]
	if !ok {
		return BillFormat{}, fmt.Errorf("no %s bill parser for channel %q", kind, ch)
	}
	return f, nil
}

// LimitInflated reads at most max bytes from r: one byte more is
// ErrBillTooLarge, so a compressed bomb stops at the cap instead of at the
// end of memory.
func LimitInflated(r io.Reader, max int64) io.Reader {
	return &inflatedLimit{r: r, left: max, max: max}
}

type inflatedLimit struct {
	r    io.Reader
	left int64
	max  int64
}

func (l *inflatedLimit) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, fmt.Errorf("%w: inflates past %d bytes", ErrBillTooLarge, l.max)
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n - int(-l.left), fmt.Errorf("%w: inflates past %d bytes", ErrBillTooLarge, l.max)
	}
	return n, err
}

// BillCheck is what a parser keeps to hold one bill to its BillOptions:
// the options with their defaults filled in, the bounds of the day, and the
// keys of the rows read so far (nil for a kept bill, which checks none).
// Parsers embed it.
type BillCheck struct {
	Opt              BillOptions
	DayStart, DayEnd time.Time // zero without Opt.Day
	Keys             *BillKeys
}

// NewBillCheck fills in opt's defaults (Shanghai, DefaultBillLimits).
func NewBillCheck(opt BillOptions) BillCheck {
	if opt.Zone == nil {
		opt.Zone = Shanghai
	}
	opt.Limits = opt.Limits.WithDefaults()
	c := BillCheck{Opt: opt}
	if !opt.Kept {
		c.Keys = NewBillKeys()
	}
	if !opt.Day.IsZero() {
		c.DayStart, c.DayEnd = Day(opt.Day, opt.Zone)
	}
	return c
}

// OnDay reports whether t is on the day the bill must cover (any time,
// without one).
func (c *BillCheck) OnDay(t time.Time) bool {
	return c.DayStart.IsZero() || (!t.Before(c.DayStart) && t.Before(c.DayEnd))
}
