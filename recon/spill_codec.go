package recon

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/paydesk/paydesk/gateway"
)

// The spill's record forms.
//
// Each bucket's records are written, and always read back, in the order
// they were added, so each is written against the last one of its bucket
// (frontCoder): a string as the length of the prefix it shares with the
// same field of the last record and the bytes after it, and a line number,
// an ordinal or a time as its difference from the last one. A bucket's
// records come about in time order, and both platforms' trade numbers and
// most merchants' order numbers begin with the date and time: on the 10M
// benchmark a bill line of about 117 bytes is written as 37 and an order
// record of 88 as 34, 0.71 GB of spill instead of 2.05, and the kernel's
// copy of the spill was the largest cost of a day too large for memory
// (bench/README.md, "Spill encoding").

// frontCoder is one bucket's last record, as its writer or its reader has
// it.
type frontCoder struct {
	strs [lineStrings][]byte
	ints [3]int64
}

const lineStrings = 8

// reset makes c a new bucket's, keeping its buffers.
func (c *frontCoder) reset() {
	for i := range c.strs {
		c.strs[i] = c.strs[i][:0]
	}
	c.ints = [3]int64{}
}

var errBadSpill = errors.New("recon: the spill file does not read back as written")

// putString appends s as the length of the prefix it shares with field i
// of the last record and the bytes after it: one varint holds the length
// of the rest and the shared length up to sharedInline (a field that
// repeats the last one, an empty one, a trade number that differs in its
// last digits: one byte), a second one any more of the shared length.
func (c *frontCoder) putString(b []byte, i int, s string) []byte {
	p := c.strs[i]
	n := sharedPrefix(p, s)
	b = binary.AppendUvarint(b, uint64(len(s)-n)<<sharedBits|uint64(min(n, sharedInline)))
	if n >= sharedInline {
		b = binary.AppendUvarint(b, uint64(n-sharedInline))
	}
	if n < len(p) || n < len(s) { // a field that repeats the last is most of them
		b = append(b, s[n:]...)
		c.strs[i] = append(p[:n], s[n:]...)
	}
	return b
}

const (
	sharedBits   = 5
	sharedInline = 1<<sharedBits - 1
)

// sharedPrefix is the length of the prefix p and s share, compared eight
// bytes at a time.
func sharedPrefix(p []byte, s string) int {
	n := min(len(p), len(s))
	q := unsafe.Slice(unsafe.StringData(s), len(s))
	i := 0
	for ; i+8 <= n; i += 8 {
		if x := binary.LittleEndian.Uint64(p[i:]) ^ binary.LittleEndian.Uint64(q[i:]); x != 0 {
			return i + bits.TrailingZeros64(x)/8
		}
	}
	for i < n && p[i] == q[i] {
		i++
	}
	return i
}

// putDelta appends v as its difference from field i of the last record.
func (c *frontCoder) putDelta(b []byte, i int, v int64) []byte {
	b = binary.AppendVarint(b, v-c.ints[i])
	c.ints[i] = v
	return b
}

// putTime appends a time in Unix nanoseconds as whole seconds against
// field i of the last record and the nanoseconds past them (bills print
// whole seconds: one byte).
func (c *frontCoder) putTime(b []byte, i int, unixNano int64) []byte {
	sec, nsec := unixNano/1e9, unixNano%1e9
	if nsec < 0 {
		sec, nsec = sec-1, nsec+1e9
	}
	b = c.putDelta(b, i, sec)
	return binary.AppendUvarint(b, uint64(nsec))
}

// spillReader reads one bucket's records off the front of its blocks,
// clearing ok at the first byte that does not read back.
type spillReader struct {
	c  *frontCoder
	b  []byte
	ok bool
}

func (r *spillReader) uvarint() uint64 {
	if len(r.b) > 0 && r.b[0] < 0x80 { // most are one byte
		v := uint64(r.b[0])
		r.b = r.b[1:]
		return v
	}
	return takeVarint(r, binary.Uvarint)
}

func (r *spillReader) varint() int64 { return takeVarint(r, binary.Varint) }

// takeVarint reads one varint off the front of r's bytes with read.
func takeVarint[T int64 | uint64](r *spillReader, read func([]byte) (T, int)) T {
	v, n := read(r.b)
	if n <= 0 {
		r.ok = false
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *spillReader) byte() byte {
	if len(r.b) == 0 {
		r.ok = false
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

// string reads field i, which stays in the coder until the next record's
// field i is read; same says it is the last record's field i again.
func (r *spillReader) string(i int) (v []byte, same bool) {
	h := r.uvarint()
	shared, rest := h&sharedInline, h>>sharedBits
	if shared == sharedInline {
		shared += r.uvarint()
	}
	p := r.c.strs[i]
	if !r.ok || shared > uint64(len(p)) || rest > uint64(len(r.b)) {
		r.ok = false
		return nil, false
	}
	if rest == 0 && shared == uint64(len(p)) {
		return p, true
	}
	p = append(p[:shared], r.b[:rest]...)
	r.b = r.b[rest:]
	r.c.strs[i] = p
	return p, false
}

func (r *spillReader) delta(i int) int64 {
	r.c.ints[i] += r.varint()
	return r.c.ints[i]
}

func (r *spillReader) time(i int) int64 {
	sec := r.delta(i)
	nsec := r.uvarint()
	if nsec >= 1e9 {
		r.ok = false
	}
	return sec*1e9 + int64(nsec)
}

// encodeLine appends the spill form of a bill line, written against the
// last line of its bucket (c): every field, so that a line read back is
// the line that was written.
func encodeLine(b []byte, l *gateway.BillLine, c *frontCoder) []byte {
	b = c.putDelta(b, 0, int64(l.Line))
	b = binary.AppendVarint(b, int64(l.Amount))
	b = binary.AppendVarint(b, int64(l.Net))
	b = binary.AppendVarint(b, int64(l.Fee))
	if l.Time.IsZero() {
		b = append(b, 0)
	} else {
		b = append(b, 1)
		b = c.putTime(b, 1, l.Time.UnixNano())
	}
	for i, s := range [lineStrings]string{string(l.Kind), l.TradeNo, l.OutTradeNo, l.OutRequestNo, l.RefundID, l.State, l.Subject, string(l.RefundStatus)} {
		b = c.putString(b, i, s)
	}
	return b
}

// lineReader reads one bucket's lines back. The strings of the lines it
// gives point into its arena, which the caller empties (clear) once
// nothing points into it any more.
type lineReader struct {
	c     frontCoder
	arena []byte
	// last is each field's string given last, in the arena: a field that
	// repeats the last line's (a subject, a state) is given it again.
	last [lineStrings]string
}

func (r *lineReader) clear() {
	r.arena = r.arena[:0]
	r.last = [lineStrings]string{}
}

// nextBucket makes r read another bucket from its first line, keeping its
// buffers.
func (r *lineReader) nextBucket() {
	r.c.reset()
	r.clear()
}

// keep returns field i's value p as a string in the arena.
func (r *lineReader) keep(i int, p []byte, same bool) string {
	if same && len(r.last[i]) == len(p) {
		return r.last[i]
	}
	if len(p) == 0 {
		return ""
	}
	if cap(r.arena)-len(r.arena) < len(p) {
		// A new arena: the strings given so far keep the old one alive.
		r.arena = make([]byte, 0, max(64<<10, 2*len(p)))
	}
	start := len(r.arena)
	r.arena = append(r.arena, p...)
	r.last[i] = unsafe.String(&r.arena[start], len(p))
	return r.last[i]
}

// decodeLine reads one line of encodeLine's form from b into l and returns
// the rest of b.
func (m *Matcher) decodeLine(b []byte, l *gateway.BillLine, lr *lineReader) ([]byte, error) {
	r := spillReader{c: &lr.c, b: b, ok: true}
	*l = gateway.BillLine{Line: int(r.delta(0)), Amount: gateway.Money(r.varint()), Net: gateway.Money(r.varint()), Fee: gateway.Money(r.varint())}
	switch r.byte() {
	case 0:
	case 1:
		at := r.time(1)
		l.Time = time.Unix(0, at).In(m.zone)
	default:
		r.ok = false
	}
	var strs [lineStrings]string
	for i := range strs {
		v, same := r.string(i)
		switch i {
		case 0, 7: // not kept (below)
			strs[i] = unsafe.String(unsafe.SliceData(v), len(v))
		default:
			strs[i] = lr.keep(i, v, same)
		}
	}
	if !r.ok {
		return nil, errBadSpill
	}
	// The matcher keeps a line's kind and refund status as they are (they
	// are constants everywhere else).
	l.Kind = gateway.LineKind(intern(strs[0], string(gateway.LinePayment), string(gateway.LineRefund)))
	l.TradeNo, l.OutTradeNo, l.OutRequestNo, l.RefundID, l.State, l.Subject = strs[1], strs[2], strs[3], strs[4], strs[5], strs[6]
	l.RefundStatus = gateway.RefundStatus(intern(strs[7], refundStatusNames...))
	return r.b, nil
}

// intern is s as one of known, or a copy of s.
func intern(s string, known ...string) string {
	for _, k := range known {
		if s == k {
			return k
		}
	}
	return strings.Clone(s)
}

// encodeSpilledRecord appends the spill form of an order record (orderIndex's
// layout), written against the last record of its bucket (c).
func encodeSpilledRecord(b, rec []byte, c *frontCoder) []byte {
	kl := int(binary.LittleEndian.Uint16(rec[recKeyLen:]))
	tl := int(binary.LittleEndian.Uint16(rec[recTLen:]))
	b = binary.AppendVarint(b, int64(binary.LittleEndian.Uint64(rec)))
	b = append(b, rec[recFlags], rec[recDay], rec[recStatus], rec[recVia], rec[recChannel])
	b = c.putDelta(b, 0, int64(binary.LittleEndian.Uint32(rec[recOrdinal:])))
	b = c.putTime(b, 1, int64(binary.LittleEndian.Uint64(rec[recTime:])))
	b = c.putString(b, 0, unsafe.String(unsafe.SliceData(rec[recHeader:]), kl))
	return c.putString(b, 1, unsafe.String(unsafe.SliceData(rec[recHeader+kl:]), tl))
}

// decodeSpilledRecord reads one record of encodeSpilledRecord's form from b
// into x and returns the rest of b.
func decodeSpilledRecord(b []byte, x *orderIndex, c *frontCoder) ([]byte, error) {
	r := spillReader{c: c, b: b, ok: true}
	amount := r.varint()
	var small [5]byte
	for i := range small {
		small[i] = r.byte()
	}
	ordinal := r.delta(0)
	at := r.time(1)
	key, _ := r.string(0)
	trade, _ := r.string(1)
	// A record's lengths are 16 bits (maxField): longer text would be
	// stored cut, not refused.
	if !r.ok || ordinal < 0 || ordinal > 1<<32-1 || len(key) > maxField || len(trade) > maxField {
		return nil, errBadSpill
	}
	rec := x.alloc(recordSize(len(key), len(trade)))
	binary.LittleEndian.PutUint64(rec, uint64(amount))
	binary.LittleEndian.PutUint64(rec[recTime:], uint64(at))
	binary.LittleEndian.PutUint32(rec[recOrdinal:], uint32(ordinal))
	rec[recFlags], rec[recDay], rec[recStatus], rec[recVia], rec[recChannel] = small[0], small[1], small[2], small[3], small[4]
	binary.LittleEndian.PutUint16(rec[recKeyLen:], uint16(len(key)))
	binary.LittleEndian.PutUint16(rec[recTLen:], uint16(len(trade)))
	n := copy(rec[recHeader:], key)
	copy(rec[recHeader+n:], trade)
	return r.b, nil
}

// refundStatusNames is gateway.RefundStatuses as strings, for intern.
var refundStatusNames = func() []string {
	out := make([]string, len(gateway.RefundStatuses))
	for i, st := range gateway.RefundStatuses {
		out[i] = string(st)
	}
	return slices.Clip(out)
}()
