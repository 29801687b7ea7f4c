package gateway

// LineRing hands a bill reader the BillLine to fill for each row from a
// fixed ring, instead of a block of fresh lines every few hundred rows: a
// million-row bill allocated 150 MB of lines that the caller copies at once
// and drops (BillReader.Next), each block faulted in and then collected.
// A line handed out stays unchanged for the next lineRing-1 rows: longer
// than Next's contract (until its next call) and than BillKeys holds a
// queued line (keyBatch rows, until its Flush).
type LineRing struct {
	lines [lineRing]BillLine
	next  int
}

const lineRing = 256

// The ring must outlast the key queue, which points into it.
var _ [lineRing - keyBatch - 1]struct{}

// Take returns the next line of the ring, holding an earlier row: the
// reader assigns it whole.
func (r *LineRing) Take() *BillLine {
	l := &r.lines[r.next]
	r.next = (r.next + 1) % lineRing
	return l
}
