package gateway

import (
	"errors"
	"math"
	"testing"
)

func TestFeeRate(t *testing.T) {
	for _, c := range []struct {
		rate   string
		amount Money
		want   Money
	}{
		// WeChat's own bills (samples W5a, W4): 6.00 at 0.60% is 0.04
		// (0.036 rounded up), 60.00 at 0.54% is 0.32, a refund of 50.00 at
		// 0.54% gives back 0.27, 0.01 at 0.60% is 0.00.
		{"0.60%", 600, 4},
		{"0.54%", 6000, 32},
		{"0.54%", -5000, -27},
		{"0.006", 1, 0},
		{"0.006", 84, 1},  // 0.504 fen: up
		{"0.006", 83, 0},  // 0.498 fen: down
		{"0.006", 250, 2}, // 1.5 fen exactly: half up
		{"0.006", -250, -2},
		{"0", 100000, 0},
		{"1", 12345, 12345},
		{"0.006", math.MaxInt64 / 2, 27670116110564327}, // 4611686018427387903 × 6 / 1000 = …327.418
	} {
		r, err := ParseFeeRate(c.rate)
		if err != nil {
			t.Fatalf("%s: %v", c.rate, err)
		}
		if got := r.Fee(c.amount); got != c.want {
			t.Errorf("%s of %d fen = %d, want %d", c.rate, c.amount, got, c.want)
		}
	}
	for _, bad := range []string{"", "abc", "0.6%%", "1.5", "-0.006", ".006", "0.0000000000001", "0,006"} {
		if _, err := ParseFeeRate(bad); !errors.Is(err, ErrFeeRate) {
			t.Errorf("%q: err %v, want ErrFeeRate", bad, err)
		}
	}
	var zero FeeRate
	if !zero.IsZero() || zero.Fee(1000) != 0 {
		t.Error("the zero rate charges nothing and says it is unset")
	}
}
