package recon

import (
	"reflect"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// Every field of a bill line survives the spill, a field added to
// gateway.BillLine later included: the test sets each field by reflection,
// so a new one that encodeLine does not carry fails it.
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
	m := &Matcher{zone: gateway.Shanghai}
	b := encodeLine(nil, &l)
	var got gateway.BillLine
	rest, err := m.decodeLine(append(b, 0xFF), &got)
	if err != nil || len(rest) != 1 {
		t.Fatalf("decode: %v, %d bytes left", err, len(rest))
	}
	if !reflect.DeepEqual(got, l) {
		t.Fatalf("spilled line came back as\n%+v\nwant\n%+v", got, l)
	}
	for n := 0; n < len(b); n++ {
		if _, err := m.decodeLine(b[:n], &got); err == nil {
			t.Fatalf("a line cut to %d of %d bytes decoded", n, len(b))
		}
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
		for i := range 200000 {
			b := buckets[i%3]
			rec := []byte{byte(i), byte(i >> 8), byte(b), 0, 0, 0, 0, 0}[:3+i%5]
			want[b] = append(want[b], rec...)
			if err := s.add(b, rec); err != nil {
				t.Fatal(err)
			}
		}
		for b := range want {
			var got []byte
			scratch := []byte{}
			if err := s.each(b, &scratch, func(p []byte) error { got = append(got, p...); return nil }); err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want[b]) {
				t.Fatalf("memory %d: bucket %d came back with %d bytes, want %d", memory, b, len(got), len(want[b]))
			}
		}
		if fileUsed := len(files) > 0; fileUsed != (memory < 1<<20) {
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
		"orders": "own", "looked": "own", "extraSeen": "own", "lineBuf": "own", "recBuf": "own", "sink": "own",
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
