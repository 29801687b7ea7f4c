package exports

import (
	"fmt"
	"strconv"

	"github.com/paydesk/paydesk/gateway"
)

// maxExactFen bounds the amounts written as spreadsheet numbers: 15
// significant digits, ¥9,999,999,999,999.99. Far beyond any real amount;
// past it an export fails rather than write a figure that is not exact.
const maxExactFen = 999_999_999_999_999

// decimal is the exact value of m in yuan as a spreadsheet stores a number:
// "123.45", "123.4", "123", "-0.04". It is computed from the integer alone.
func decimal(m gateway.Money) string {
	v := int64(m)
	neg := v < 0
	if neg {
		v = -v
	}
	b := make([]byte, 0, 24)
	if neg {
		b = append(b, '-')
	}
	b = strconv.AppendInt(b, v/100, 10)
	switch frac := v % 100; {
	case frac == 0:
	case frac%10 == 0:
		b = append(b, '.', byte('0'+frac/10))
	default:
		b = append(b, '.', byte('0'+frac/10), byte('0'+frac%10))
	}
	return string(b)
}

// checkExact refuses an amount that could not be written exactly.
func checkExact(m gateway.Money) error {
	if m > maxExactFen || m < -maxExactFen {
		return fmt.Errorf("amount %s is too large to write as an exact spreadsheet number", m)
	}
	return nil
}

// streamNumber is the value handed to excelize's StreamWriter for a money
// cell. The StreamWriter takes numbers only as Go integers or floats (a
// string becomes text), so a money cell has to cross excelize's API as a
// float64 — the one place in paydesk where money does. No arithmetic is
// done on it; it is exact by construction:
//
//   - float64(m) is exact (|m| < 2^53), and the division is correctly
//     rounded, so the result is the double nearest to the decimal m/100;
//   - every decimal of at most 15 significant digits (maxExactFen) is the
//     shortest decimal that reads back as its nearest double, so
//     excelize's shortest formatting (strconv 'f', -1, capped at 15
//     digits) writes exactly decimal(m) into the file.
//
// TestStreamNumberIsExact checks that claim over millions of amounts, and
// the workbook tests read every money cell's stored text back.
func streamNumber(m gateway.Money) (float64, error) {
	if err := checkExact(m); err != nil {
		return 0, err
	}
	return float64(m) / 100, nil
}
