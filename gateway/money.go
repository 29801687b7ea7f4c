package gateway

import (
	"errors"
	"fmt"
	"math"
	"strconv"
)

// Money is an amount in fen (分, 0.01 CNY). Money never passes through a
// float: platforms send yuan as decimal strings and every conversion here is
// exact or an error.
type Money int64

// ErrMoney is wrapped by every amount parsing error.
var ErrMoney = errors.New("invalid amount")

// ParseMoney parses a yuan decimal string ("12.3" → 1230, "-0.04" → -4).
// Digits past the second decimal are accepted only when they are zero
// ("0.32000" → 32) because WeChat bills print fees with five decimals; any
// other value that cannot be represented in fen is rejected rather than
// rounded.
func ParseMoney(s string) (Money, error) {
	m, ok := parseYuan(s)
	if !ok {
		return 0, fmt.Errorf("%w %q: want yuan like 12.34", ErrMoney, s)
	}
	return m, nil
}

// parseYuan is the allocation-free core of ParseMoney; bill parsers call it
// once per amount column, a few million times per bill.
func parseYuan(s string) (Money, bool) {
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	// The limit keeps whole*100+99 inside int64.
	const maxWhole = (math.MaxInt64 - 99) / 100
	var whole int64
	i := 0
	for ; i < len(s) && s[i] != '.'; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		whole = whole*10 + int64(c-'0')
		if whole > maxWhole {
			return 0, false
		}
	}
	if i == 0 {
		return 0, false // "", "-", ".5"
	}
	var frac int64
	if i < len(s) {
		fracDigits := s[i+1:]
		if fracDigits == "" {
			return 0, false // "5."
		}
		for n := 0; n < len(fracDigits); n++ {
			c := fracDigits[n]
			if c < '0' || c > '9' {
				return 0, false
			}
			switch {
			case n < 2:
				frac = frac*10 + int64(c-'0')
			case c != '0':
				return 0, false // would lose precision
			}
		}
		if len(fracDigits) == 1 {
			frac *= 10
		}
	}
	v := whole*100 + frac
	if neg {
		v = -v
	}
	return Money(v), true
}

// MoneyFromFen converts an integer fen amount as WeChat's APIs send it.
func MoneyFromFen(fen int64) Money { return Money(fen) }

// Fen returns the amount in fen.
func (m Money) Fen() int64 { return int64(m) }

// String formats as yuan with two decimals ("12.30", "-0.04"), the form both
// platforms accept in requests.
func (m Money) String() string {
	v := int64(m)
	sign := ""
	if v < 0 {
		sign = "-"
		if v == math.MinInt64 {
			return "-92233720368547758.08"
		}
		v = -v
	}
	frac := v % 100
	b := make([]byte, 0, 24)
	b = append(b, sign...)
	b = strconv.AppendInt(b, v/100, 10)
	b = append(b, '.', byte('0'+frac/10), byte('0'+frac%10))
	return string(b)
}

// Yuan formats with a ¥ sign and thousands separators for people
// ("¥1,234.50").
func (m Money) Yuan() string {
	s := m.String()
	sign := ""
	if s[0] == '-' {
		sign, s = "-", s[1:]
	}
	dot := len(s) - 3
	intPart, frac := s[:dot], s[dot:]
	out := make([]byte, 0, len(s)+len(s)/3+4)
	for i := range len(intPart) {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, intPart[i])
	}
	return sign + "¥" + string(out) + frac
}

// MarshalText writes the yuan string so JSON output carries exact decimals,
// never a float.
func (m Money) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText parses a yuan string.
func (m *Money) UnmarshalText(b []byte) error {
	v, err := ParseMoney(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}
