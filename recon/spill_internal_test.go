package recon

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// Every field of a bill line survives the spill, a field added to
// gateway.BillLine later included: the test sets each field by reflection,
// so a new one that encodeLine does not carry fails it. The lines of a
// bucket are written against each other, so the test writes a run of them:
// that line, one sharing the beginnings of its strings, one with no time and
// empty strings, and the first again; and every cut of the run fails.
func TestSpillKeepsEveryLineField(t *testing.T) {
	var l gateway.BillLine
	v := reflect.ValueOf(&l).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		switch {
		case f.Type() == reflect.TypeOf(time.Time{}):
			f.Set(reflect.ValueOf(time.Date(2024, 5, 1, 23, 59, 58, 123456789, gateway.Shanghai)))
		case f.Kind() == reflect.String:
			f.SetString(v.Type().Field(i).Name + " 值")
		case f.CanInt():
			f.SetInt(int64(-1000*i - 7))
		default:
			t.Fatalf("BillLine.%s is a %s: teach encodeLine and this test about it", v.Type().Field(i).Name, f.Type())
		}
	}
	next := l
	next.Line, next.TradeNo, next.OutTradeNo = l.Line+64, l.TradeNo+"1", "Out"
	next.Time = l.Time.Add(-3*time.Second - 5)
	lines := []gateway.BillLine{l, next, {Line: 3, Kind: gateway.LineRefund, RefundStatus: gateway.RefundStatuses[0]}, l}
	var w frontCoder
	var b []byte
	var sizes []int
	for i := range lines {
		before := len(b)
		b = encodeLine(b, &lines[i], &w)
		sizes = append(sizes, len(b)-before)
	}
	m := &Matcher{zone: gateway.Shanghai}
	lr := &lineReader{}
	rest := append(b, 0xFF)
	for i, want := range lines {
		var got gateway.BillLine
		var err error
		if rest, err = m.decodeLine(rest, &got, lr); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("spilled line %d came back as\n%+v\nwant\n%+v", i, got, want)
		}
	}
	if len(rest) != 1 {
		t.Fatalf("%d bytes left, want 1", len(rest))
	}
	// The second line repeats most of the first: its kind, state and
	// subject whole, the start of its numbers.
	if sizes[1] >= sizes[0]/2 {
		t.Fatalf("a line sharing most of the last one's bytes took %d bytes, the last one %d", sizes[1], sizes[0])
	}
	for n := 0; n < len(b); n++ {
		lr := &lineReader{}
		var got gateway.BillLine
		p := b[:n]
		var err error
		for range lines {
			if p, err = m.decodeLine(p, &got, lr); err != nil {
				break
			}
		}
		if err == nil {
			t.Fatalf("lines cut to %d of %d bytes decoded", n, len(b))
		}
	}
}

// An order record read back from the spill is byte for byte the record
// that was written, whatever its last one in the bucket was: times before
// 1970 and none, numbers longer, shorter and unlike the last, the largest
// ordinal. A cut record never reads back.
func TestSpilledRecordReadsBackAsWritten(t *testing.T) {
	recs := []orderRecord{
		{key: "PD20261122000000123", tradeNo: "2026112222001000000000000001", amount: 12348, at: 1795000000123456789, ordinal: 7,
			flags: fOnChannel | fPaid | fHasTime | fPaidAt, day: 0, status: 2, via: 1, channelIdx: 0},
		{key: "PD20261122000000124", tradeNo: "2026112222001000000000000002", amount: 1, at: 1795000001000000000, ordinal: 9,
			flags: fPaid | fHasTime, day: 1, status: 4, via: 3, channelIdx: 2},
		{key: "PD2", ordinal: 8, amount: -5, day: -1},
		{key: "合同-甲-0001", tradeNo: "x", at: -1_500_000_000_000_000_001, ordinal: math.MaxUint32, flags: fHasTime | fTaken, status: 5},
		{key: "PD20261122000000123", tradeNo: "2026112222001000000000000001", amount: 12348, at: 1795000000123456789, ordinal: 0},
	}
	src := newOrderIndex()
	var w frontCoder
	var b []byte
	for i := range recs {
		src.add(&recs[i])
		last := len(src.chunks[0])
		size := recordSize(len(recs[i].key), len(recs[i].tradeNo))
		b = encodeSpilledRecord(b, src.chunks[0][last-size:last], &w)
	}
	dst := newOrderIndex()
	var r frontCoder
	rest := b
	for range recs {
		var err error
		if rest, err = decodeSpilledRecord(rest, dst, &r); err != nil {
			t.Fatal(err)
		}
	}
	if len(rest) != 0 || !bytes.Equal(dst.chunks[0], src.chunks[0]) || dst.n != src.n {
		t.Fatalf("records came back as\n%x\nwant\n%x", dst.chunks[0], src.chunks[0])
	}
	for n := 0; n < len(b); n++ {
		var r frontCoder
		p := b[:n]
		var err error
		for range recs {
			if p, err = decodeSpilledRecord(p, newOrderIndex(), &r); err != nil {
				break
			}
		}
		if err == nil {
			t.Fatalf("records cut to %d of %d bytes decoded", n, len(b))
		}
	}
}

func TestSpilledRecordWithAnOverlongKeyIsRefused(t *testing.T) {
	// A record form whose key is longer than a record can state (16 bits)
	// is a damaged spill, not a key to store cut.
	var w frontCoder
	b := binary.AppendVarint(nil, 100)
	b = append(b, 0, 0, 0, 0, 0)
	b = w.putDelta(b, 0, 1)
	b = w.putTime(b, 1, 0)
	b = w.putString(b, 0, strings.Repeat("K", maxField+1))
	b = w.putString(b, 1, "")
	var r frontCoder
	if _, err := decodeSpilledRecord(b, newOrderIndex(), &r); !errors.Is(err, errBadSpill) {
		t.Fatalf("a %d-byte key decoded with %v", maxField+1, err)
	}
}

// memFile is a spill file in memory.
type memFile struct {
	b      []byte
	closed bool
}

func (f *memFile) Write(p []byte) (int, error) { f.b = append(f.b, p...); return len(p), nil }
func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	return copy(p, f.b[off:]), nil
}
func (f *memFile) Close() error { f.closed = true; return nil }

// slowFile is a spill file whose reads take a while, and which counts the
// reads that ended after its reader said it was done with it.
type slowFile struct {
	memFile
	done, late atomic.Int32
}

func (f *slowFile) ReadAt(p []byte, off int64) (int, error) {
	time.Sleep(20 * time.Millisecond)
	defer func() {
		if f.done.Load() != 0 {
			f.late.Add(1)
		}
	}()
	return f.memFile.ReadAt(p, off)
}

// A bucket read back while its next block is read ahead stops at fn's
// error, and waits for the read ahead: nothing writes into the buffers
// once each has returned them.
func TestBucketStoreWaitsForItsReadAhead(t *testing.T) {
	f := &slowFile{}
	s := newBucketStore(func() (SpillFile, error) { return f, nil }, 0)
	rec := make([]byte, 100)
	for range 3 * spillBlockSize / len(rec) {
		if err := s.add(0, rec); err != nil {
			t.Fatal(err)
		}
	}
	if len(s.blocks[0]) < 3 {
		t.Fatalf("%d blocks in the file, want 3 or more", len(s.blocks[0]))
	}
	var buffers readBuffers
	stop := errors.New("stop")
	blocks := 0
	err := s.each(0, &buffers, func([]byte) error { blocks++; return stop })
	f.done.Store(1)
	if !errors.Is(err, stop) || blocks != 1 {
		t.Fatalf("each gave %d blocks and %v, want 1 and fn's error", blocks, err)
	}
	time.Sleep(60 * time.Millisecond) // for a read left behind to end
	if n := f.late.Load(); n != 0 {
		t.Fatalf("%d reads ended after each returned", n)
	}
}

// A bucket store gives back every bucket's records in the order they were
// added, from memory, from the file, and across the move from one to the
// other; it opens its file only past its memory bound.
func TestBucketStoreKeepsOrder(t *testing.T) {
	for _, memory := range []int{0, 3 * spillBlockSize, 1 << 30} {
		var files []*memFile
		s := newBucketStore(func() (SpillFile, error) {
			f := &memFile{}
			files = append(files, f)
			return f, nil
		}, memory)
		want := make([][]byte, spillBuckets+1)
		buckets := []int{0, 5, otherLines}
		for i := range 2 * spillBlockSize { // ten blocks' bytes in three buckets
			b := buckets[i%3]
			rec := []byte{byte(i), byte(i >> 8), byte(b), 0, 0, 0, 0, 0}[:3+i%5]
			want[b] = append(want[b], rec...)
			if err := s.add(b, rec); err != nil {
				t.Fatal(err)
			}
		}
		for b := range want {
			var got []byte
			var buffers readBuffers
			if err := s.each(b, &buffers, func(p []byte) error { got = append(got, p...); return nil }); err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want[b]) {
				t.Fatalf("memory %d: bucket %d came back with %d bytes, want %d", memory, b, len(got), len(want[b]))
			}
		}
		if fileUsed := len(files) > 0; fileUsed != (memory < 1<<30) {
			t.Fatalf("memory %d: file used %v", memory, fileUsed)
		}
		if err := s.close(); err != nil || (len(files) > 0 && !files[0].closed) {
			t.Fatal("the file was not closed")
		}
	}
}

// Every field of Matcher is accounted for by fork and join: a field added
// later (a new tally, say) fails this test until fork shares it or join
// adds it up, so a spilled day matched on several cores never loses what a
// worker counted.
func TestForkKnowsEveryField(t *testing.T) {
	known := map[string]string{
		// shared by fork: read by the groups, or (suspense) one item per group
		"in": "shared", "start": "shared", "end": "shared", "zone": "shared", "window": "shared", "suspenseDays": "shared",
		"statuses": "shared", "vias": "shared", "channels": "shared", "extras": "shared",
		"refundIdx": "shared", "refundTaken": "shared", "suspense": "shared", "localHold": "shared",
		"spill": "shared", "seed": "shared", "feeCheck": "shared",
		// added up by join
		"tally": "joined", "computed": "joined", "expectedFees": "joined", "findings": "joined", "carry": "joined", "settled": "joined", "notices": "joined",
		// a worker's own, dropped with it
		"orders": "own", "looked": "own", "extraSeen": "own", "spillBuf": "own", "recBuf": "own", "sink": "own",
		// not touched by the groups: payment lines only, before Finish
		"lookedRefund": "unused", "finished": "unused", "result": "unused",
	}
	typ := reflect.TypeOf(Matcher{})
	for i := range typ.NumField() {
		if _, ok := known[typ.Field(i).Name]; !ok {
			t.Errorf("Matcher.%s is new: fork must share it or join add it up (spill.go), then list it here", typ.Field(i).Name)
		}
	}
}

// FuzzSpillCodec: two lines and two order records, written one after the
// other, read back as they were written, whatever their numbers share;
// and no bytes make the readers panic.
func FuzzSpillCodec(f *testing.F) {
	f.Add("PD20261122000000123", "2026112222001000000000000001", "PD20261122000000124", "2026112222001000000000000002", int64(12348), int64(1795000000123456789), []byte{0x21, 3, 'a'})
	f.Add("", "x", "合同", "", int64(-1), int64(-1), []byte{0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, out1, trade1, out2, trade2 string, amount, at int64, junk []byte) {
		if max(len(out1), len(trade1), len(out2), len(trade2)) > maxField {
			t.Skip()
		}
		lines := []gateway.BillLine{
			{Line: 1, Kind: gateway.LinePayment, OutTradeNo: out1, TradeNo: trade1, Amount: gateway.Money(amount), Time: time.Unix(0, at).In(gateway.Shanghai), State: trade2},
			{Line: int(amount), Kind: gateway.LineKind(out2), OutTradeNo: out2, TradeNo: trade2, Subject: out1, Net: gateway.Money(at)},
		}
		var w frontCoder
		var b []byte
		for i := range lines {
			b = encodeLine(b, &lines[i], &w)
		}
		m, lr := &Matcher{zone: gateway.Shanghai}, &lineReader{}
		for i, want := range lines {
			var got gateway.BillLine
			var err error
			if b, err = m.decodeLine(b, &got, lr); err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("line %d came back as %+v (%v), want %+v", i, got, err, want)
			}
		}
		recs := []orderRecord{
			{key: out1, tradeNo: trade1, amount: amount, at: at, ordinal: uint32(amount), flags: uint8(at)},
			{key: out2, tradeNo: trade2, amount: at, at: amount, ordinal: uint32(at), day: int8(amount)},
		}
		src, dst := newOrderIndex(), newOrderIndex()
		var wr, rd frontCoder
		b = b[:0]
		for i := range recs {
			src.add(&recs[i])
			c := src.chunks[len(src.chunks)-1]
			size := recordSize(len(recs[i].key), len(recs[i].tradeNo))
			b = encodeSpilledRecord(b, c[len(c)-size:], &wr)
		}
		for range recs {
			var err error
			if b, err = decodeSpilledRecord(b, dst, &rd); err != nil {
				t.Fatal(err)
			}
		}
		if !reflect.DeepEqual(src.chunks, dst.chunks) {
			t.Fatal("records did not come back as written")
		}
		var l gateway.BillLine
		_, _ = m.decodeLine(junk, &l, &lineReader{})
		_, _ = decodeSpilledRecord(junk, newOrderIndex(), &frontCoder{})
	})
}
