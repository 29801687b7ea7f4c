package gateway

import (
	"strconv"
	"testing"
	"unsafe"
)

// BenchmarkBillKeys10M checks the keys of a ten-million-movement fund bill
// for repeats, the set sized as a bill zip sizes it (Expect): what the
// table's load costs in time against what it holds in memory.
// Run: go test -run '^$' -bench BillKeys10M -benchtime 3x ./gateway
func BenchmarkBillKeys10M(b *testing.B) {
	const n = 10_000_000
	var lines Ring[FundLine]
	var text [lineRing][24]byte // each line's flow number, as long as the ring keeps the line
	var k *BillKeys
	for b.Loop() {
		k = NewBillKeys()
		k.Expect(n)
		for i := range n {
			l := lines.Take()
			buf := strconv.AppendInt(text[i%lineRing][:0], 2026112210000000000+int64(i), 10)
			*l = FundLine{Line: i + 2, Type: "在线支付", Amount: Money(100 + i%5000), FlowNo: unsafe.String(&buf[0], len(buf))}
			if r := k.AddMovement(l); r != nil {
				b.Fatalf("line %d taken for a repeat of line %d", l.Line, r.First)
			}
		}
		if r := k.Flush(); r != nil {
			b.Fatalf("line %d taken for a repeat", r.Movement.Line)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/key")
	b.ReportMetric(float64(len(k.slots))*float64(unsafe.Sizeof(keySlot{}))/1e6, "table-MB")
}
