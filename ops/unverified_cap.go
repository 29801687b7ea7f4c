package ops

import (
	"net/http"
	"net/netip"
	"sort"
	"sync"
	"time"
)

// IntakeCap bounds what one sender may add to the store in a minute with
// callbacks that fail verification (anyone can POST to the endpoint; 500
// junk requests of 64 KB would otherwise add 32 MB).
//
// ARCHITECTURE.md §3 rule 1 (keep everything raw) holds where it
// matters: a callback that verifies is always stored whole, before it is
// applied, whatever its sender has sent. Only unverified traffic is
// capped, in three tiers per sender and minute:
//   - up to BytesPerMinute of it is stored whole, as every callback is;
//   - past that, RowsPerMinute more requests keep their first bytes
//     (body and headers) and the size they arrived with, so what they were
//     stays recognisable;
//   - past that, requests are only counted (sender, channel, minute,
//     requests, bytes), never stored one by one.
//
// Past the first tier a request is verified in memory before it is
// stored (verification is a pure function of the request), so that a real
// callback from a sender over its cap is still stored whole. A sender is an
// address (as [serve] trusted_proxies resolve it); IPv6 senders count per
// /64, which one host can hold whole. The windows live in this process:
// several endpoints each apply the cap, and a restart starts it afresh.
type IntakeCap struct {
	BytesPerMinute int64 // default DefaultUnverifiedBytesPerMinute
	RowsPerMinute  int   // default DefaultUnverifiedRowsPerMinute
}

const (
	// DefaultUnverifiedBytesPerMinute keeps about thirty real callbacks a
	// minute from one address whole even when all fail verification (our
	// key misconfigured), and one junk request of 64 KB.
	DefaultUnverifiedBytesPerMinute = 64 << 10
	// DefaultUnverifiedRowsPerMinute: with firstBytes of body and
	// firstHeaderBytes of headers, about 30 KB a minute more per sender.
	DefaultUnverifiedRowsPerMinute = 20
	// firstBytes of a body are kept past the byte budget: enough for the
	// fields that say what a request claims to be.
	firstBytes = 512
	// firstHeaderBytes of headers (names and values) are kept past it.
	firstHeaderBytes = 1024
)

// capTier is how much of an unverified callback is stored.
type capTier int

const (
	tierWhole capTier = iota
	tierFirstBytes
	tierCount
)

type senderCap struct {
	limits  IntakeCap
	mu      sync.Mutex
	minute  int64 // the window: Unix minute
	senders map[string]*senderWindow
}

type senderWindow struct {
	bytes int64
	rows  int
}

func newSenderCap(l IntakeCap) *senderCap {
	if l.BytesPerMinute <= 0 {
		l.BytesPerMinute = DefaultUnverifiedBytesPerMinute
	}
	if l.RowsPerMinute <= 0 {
		l.RowsPerMinute = DefaultUnverifiedRowsPerMinute
	}
	return &senderCap{limits: l, senders: map[string]*senderWindow{}}
}

// window is the sender's use of the minute at; a new minute forgets the
// last one (so the map holds one minute's senders at most).
func (c *senderCap) window(sender string, at time.Time) *senderWindow {
	if m := at.Unix() / 60; m != c.minute {
		c.minute = m
		clear(c.senders)
	}
	w := c.senders[sender]
	if w == nil {
		w = &senderWindow{}
		c.senders[sender] = w
	}
	return w
}

// admit decides how much of a request of size bytes may be stored should
// it fail verification, and charges the sender's window for it.
func (c *senderCap) admit(sender string, size int64, at time.Time) capTier {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := c.window(sender, at)
	switch {
	case w.bytes+size <= c.limits.BytesPerMinute:
		w.bytes += size
		return tierWhole
	case w.rows < c.limits.RowsPerMinute:
		w.rows++
		return tierFirstBytes
	}
	return tierCount
}

// release gives back what admit charged, for a request that verified.
func (c *senderCap) release(sender string, size int64, at time.Time, tier capTier) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if at.Unix()/60 != c.minute {
		return
	}
	w := c.window(sender, at)
	switch tier {
	case tierWhole:
		w.bytes = max(0, w.bytes-size)
	case tierFirstBytes:
		w.rows = max(0, w.rows-1)
	}
}

// senderKey is who a cap counts against: the address, or its /64 for
// IPv6.
func senderKey(remote string) string {
	a, err := netip.ParseAddr(remote)
	if err != nil {
		return remote
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// rawSize is what storing a request whole costs: body and headers.
func rawSize(h http.Header, body []byte) int64 {
	n := int64(len(body))
	for k, vs := range h {
		for _, v := range vs {
			n += int64(len(k) + len(v))
		}
	}
	return n
}

// firstOf keeps the first bytes of a request: firstBytes of its body and
// its headers in name order up to firstHeaderBytes (a header that does not
// fit is cut).
func firstOf(h http.Header, body []byte) (http.Header, []byte) {
	out := http.Header{}
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	room := firstHeaderBytes
	for _, k := range names {
		for _, v := range h[k] {
			if room <= len(k) {
				break
			}
			room -= len(k)
			if len(v) > room {
				v = v[:room]
			}
			room -= len(v)
			out[k] = append(out[k], v)
		}
	}
	return out, body[:min(len(body), firstBytes)]
}
