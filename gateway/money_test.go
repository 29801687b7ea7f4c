package gateway

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestParseMoney(t *testing.T) {
	good := map[string]Money{
		"12.3": 1230, "-0.04": -4, "0.32000": 32, "0": 0, "0.00": 0, "1": 100,
		"+5.5": 550, "100.01": 10001, "-0.27000": -27, "92233720368547757.00": 9223372036854775700,
	}
	for in, want := range good {
		got, err := ParseMoney(in)
		if err != nil || got != want {
			t.Errorf("ParseMoney(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	bad := []string{"1.234", "abc", "", "-", ".5", "5.", "1,000.00", "1.2.3", " 1.00", "1e3",
		"0.001", "99999999999999999999", "92233720368547758.08", "¥1.00", "--1"}
	for _, in := range bad {
		if got, err := ParseMoney(in); err == nil || !errors.Is(err, ErrMoney) {
			t.Errorf("ParseMoney(%q) = %d, %v; want an ErrMoney error", in, got, err)
		}
	}
}

func TestMoneyFormatting(t *testing.T) {
	cases := []struct {
		m          Money
		plain, cny string
	}{
		{1230, "12.30", "¥12.30"}, {-4, "-0.04", "-¥0.04"}, {0, "0.00", "¥0.00"},
		{123456789, "1234567.89", "¥1,234,567.89"}, {100000, "1000.00", "¥1,000.00"},
	}
	for _, c := range cases {
		if got := c.m.String(); got != c.plain {
			t.Errorf("%d.String() = %q, want %q", c.m, got, c.plain)
		}
		if got := c.m.Yuan(); got != c.cny {
			t.Errorf("%d.Yuan() = %q, want %q", c.m, got, c.cny)
		}
		back, err := ParseMoney(c.plain)
		if err != nil || back != c.m {
			t.Errorf("round trip of %q gave %d, %v", c.plain, back, err)
		}
	}
}

func TestMoneyJSONIsADecimalString(t *testing.T) {
	b, err := json.Marshal(struct{ A Money }{1230})
	if err != nil || string(b) != `{"A":"12.30"}` {
		t.Fatalf("got %s, %v", b, err)
	}
	var v struct{ A Money }
	if err := json.Unmarshal([]byte(`{"A":"0.1"}`), &v); err != nil || v.A != 10 {
		t.Fatalf("got %d, %v", v.A, err)
	}
	if err := json.Unmarshal([]byte(`{"A":"0.123"}`), &v); err == nil {
		t.Fatal("0.123 accepted")
	}
}

func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"12.3", "-0.04", "0.32000", "1.234", "abc", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMoney(s)
		if err != nil {
			return
		}
		again, err := ParseMoney(m.String())
		if err != nil || again != m {
			t.Fatalf("%q → %d → %q → %d, %v", s, m, m.String(), again, err)
		}
	})
}
