package gateway

import (
	"errors"
	"fmt"
	"math/bits"
	"strings"
)

// FeeRate is a contracted service-fee rate as a decimal fraction ("0.006"
// is 0.6%), held exactly as a ratio of integers: a fee is computed from fen
// with integer arithmetic only.
type FeeRate struct {
	num, den int64 // rate = num/den; den a power of ten; zero value: no rate
	text     string
}

// ErrFeeRate is wrapped by every rate parsing error.
var ErrFeeRate = errors.New("invalid fee rate")

// ParseFeeRate reads a rate written as a decimal fraction between 0 and 1
// ("0.006", "0.0054"), or as a percentage with a % sign ("0.6%"), the way
// WeChat prints 费率 in its bills. At most 8 decimals of the fraction.
func ParseFeeRate(s string) (FeeRate, error) {
	t := strings.TrimSpace(s)
	pct := strings.HasSuffix(t, "%")
	t = strings.TrimSuffix(t, "%")
	whole, frac, _ := strings.Cut(t, ".")
	if whole == "" || strings.Trim(whole, "0123456789") != "" || strings.Trim(frac, "0123456789") != "" {
		return FeeRate{}, fmt.Errorf("%w %q: want a fraction like 0.006 or a percentage like 0.6%%", ErrFeeRate, s)
	}
	digits := whole + frac
	den := int64(1)
	for range len(frac) {
		den *= 10
	}
	if pct {
		den *= 100
	}
	if len(digits) > 12 || den > 1e10 {
		return FeeRate{}, fmt.Errorf("%w %q: too many digits", ErrFeeRate, s)
	}
	var num int64
	for _, c := range digits {
		num = num*10 + int64(c-'0')
	}
	if num > den {
		return FeeRate{}, fmt.Errorf("%w %q: more than 100%%", ErrFeeRate, s)
	}
	return FeeRate{num: num, den: den, text: strings.TrimSpace(s)}, nil
}

// IsZero reports whether no rate is set.
func (r FeeRate) IsZero() bool { return r.den == 0 }

func (r FeeRate) String() string { return r.text }

// Fee is the fee on amount at this rate, rounded half up to the fen (四舍
// 五入), the rule both platforms apply per trade: WeChat's bills print 手续费
// with five decimals but always whole fen (6.00 at 0.60% is 0.04000, so
// 0.036 rounds up; 60.00 at 0.54% is 0.32000), and a refund gives back the
// same rule's fee of the refunded amount, printed negative. A negative
// amount gives the negative fee. The product is taken in 128 bits, so no
// amount overflows.
func (r FeeRate) Fee(amount Money) Money {
	if r.den == 0 || amount == 0 {
		return 0
	}
	a := uint64(amount)
	neg := amount < 0
	if neg {
		a = -a
	}
	// (a·num·2 + den) / (2·den): half up. num ≤ den ≤ 10^10, so the
	// quotient is at most a and fits.
	hi, lo := bits.Mul64(a, uint64(r.num)*2)
	lo, carry := bits.Add64(lo, uint64(r.den), 0)
	hi += carry
	q, _ := bits.Div64(hi, lo, uint64(r.den)*2)
	v := int64(q)
	if neg {
		v = -v
	}
	return Money(v)
}

// MarshalText writes the rate as it was given.
func (r FeeRate) MarshalText() ([]byte, error) { return []byte(r.text), nil }
