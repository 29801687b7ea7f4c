package alipay

import (
	"bytes"
	"testing"
)

func splitCommas(line []byte) [][]byte {
	pos := commaPositions(nil, line)
	f := fieldsOf{line, pos}
	var out [][]byte
	for i := 0; i <= len(pos); i++ {
		out = append(out, f.at(i))
	}
	return out
}

func TestSplitCommasMatchesBytesSplit(t *testing.T) {
	for _, line := range []string{"", ",", "a", "a,b", ",-30.00,-30.00,", "2026112222001400000000000102\t,PDKB81X3Z2\t,退款\t,,,-1.00,,", "abcdefgh,ijklmnop,", ",,,,,,,,,,,,,,,,,"} {
		got := splitCommas([]byte(line))
		want := bytes.Split([]byte(line), []byte(","))
		if len(got) != len(want) {
			t.Fatalf("%q: %q, want %q", line, got, want)
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("%q: %q, want %q", line, got, want)
			}
		}
	}
}

func FuzzSplitCommas(f *testing.F) {
	f.Add([]byte(",-30.00,\t,0.18,"))
	f.Fuzz(func(t *testing.T, line []byte) {
		got, want := splitCommas(line), bytes.Split(line, []byte(","))
		if len(got) != len(want) {
			t.Fatalf("%q: %d fields, want %d", line, len(got), len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("%q: field %d %q, want %q", line, i, got[i], want[i])
			}
		}
	})
}
