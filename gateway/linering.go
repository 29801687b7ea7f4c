package gateway

// Ring hands a bill reader the line to fill for each row (a BillLine, or a
// fund bill's FundLine) from a fixed ring, instead of a block of fresh lines
// every few hundred rows: a million-row bill allocated 150 MB of lines that
// the caller copies at once and drops (BillReader.Next, FundReader.Next),
// each block faulted in and then collected. A line handed out stays
// unchanged for the next lineRing-1 rows: longer than Next's contract
// (until its next call) and than BillKeys holds a queued line (keyBatch
// rows, until its Flush).
type Ring[T BillLine | FundLine] struct {
	lines [lineRing]T
	next  int
}

// LineRing is a trade bill reader's ring, FundLineRing a fund bill reader's.
type (
	LineRing     = Ring[BillLine]
	FundLineRing = Ring[FundLine]
)

const lineRing = 256

// The ring must outlast the key queue, which points into it.
var _ [lineRing - keyBatch - 1]struct{}

// Take returns the next line of the ring, holding an earlier row: the
// reader assigns it whole.
func (r *Ring[T]) Take() *T {
	l := &r.lines[r.next]
	r.next = (r.next + 1) % lineRing
	return l
}
