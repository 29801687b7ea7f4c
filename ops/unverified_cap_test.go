package ops

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSenderCapTiers: per sender and minute, bytes whole, then rows of
// first bytes, then counting; a verified request gives back what it was
// charged; a new minute starts afresh; an IPv6 /64 is one sender.
func TestSenderCapTiers(t *testing.T) {
	c := newSenderCap(IntakeCap{BytesPerMinute: 1000, RowsPerMinute: 2})
	at := time.Date(2026, 11, 22, 10, 0, 5, 0, time.UTC)
	var got []capTier
	for range 5 {
		got = append(got, c.admit("203.0.113.9", 400, at))
	}
	if want := []capTier{tierWhole, tierWhole, tierFirstBytes, tierFirstBytes, tierCount}; !slices.Equal(got, want) {
		t.Fatalf("tiers %v, want %v", got, want)
	}
	if c.admit("203.0.113.10", 400, at) != tierWhole {
		t.Fatal("another sender shares the window")
	}
	c.release("203.0.113.9", 400, at, tierWhole)
	if c.admit("203.0.113.9", 400, at) != tierWhole {
		t.Fatal("a verified request's bytes were not given back")
	}
	if c.admit("203.0.113.9", 400, at.Add(time.Minute)) != tierWhole {
		t.Fatal("a new minute did not start afresh")
	}
	for in, want := range map[string]string{
		"2001:db8:1:2:aaaa::1": "2001:db8:1:2::/64", "2001:db8:1:2:bbbb::9": "2001:db8:1:2::/64",
		"::ffff:198.51.100.7": "198.51.100.7", "198.51.100.7": "198.51.100.7", "unix-socket": "unix-socket",
	} {
		if got := senderKey(in); got != want {
			t.Errorf("senderKey(%q) = %q, want %q", in, got, want)
		}
	}
	h, b := firstOf(http.Header{"X-Big": {strings.Repeat("h", 5000)}, "A": {"1"}}, []byte(strings.Repeat("b", 5000)))
	if len(b) != firstBytes || h.Get("A") != "1" || rawSize(h, nil) > firstHeaderBytes {
		t.Fatalf("first bytes: %d body, %d headers", len(b), rawSize(h, nil))
	}
}
