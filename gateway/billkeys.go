package gateway

import (
	"hash/maphash"
	"strconv"
)

// BillKeys remembers the key of every row of one bill so that the second
// copy of a row is refused where it stands: a real bill books a (trade
// number, business type, request number) once, and a file that repeats one
// is damaged or made to inflate into something that exhausts memory.
//
// A key is kept as two independent 64-bit hashes (about 40 bytes a row in
// the map), never as its text, so the set grows with the rows of a real day
// and not with the bytes of the file; two different keys taken for one
// would need both hashes to collide.
type BillKeys struct {
	h1, h2 maphash.Hash
	seen   map[billKeyHash]int32
}

type billKeyHash [2]uint64

// NewBillKeys makes an empty set.
func NewBillKeys() *BillKeys {
	k := &BillKeys{seen: make(map[billKeyHash]int32, 1024)}
	k.h1.SetSeed(maphash.MakeSeed())
	k.h2.SetSeed(maphash.MakeSeed())
	return k
}

// Add records l's key. When an earlier row had the same key it returns that
// row's line number and false. business is the row's business type as the
// bill prints it (Alipay 业务类型, WeChat Pay 交易状态): a WeChat payment and
// its revocation are two rows of one trade.
func (k *BillKeys) Add(l *BillLine, business string) (first int, ok bool) {
	var buf [24]byte
	var h billKeyHash
	for i, m := range [2]*maphash.Hash{&k.h1, &k.h2} {
		m.Reset()
		m.WriteString(l.TradeNo)
		m.WriteByte(0)
		m.WriteString(business)
		m.WriteByte(0)
		switch {
		case l.Kind == LinePayment:
		case l.OutRequestNo != "":
			m.WriteString(l.OutRequestNo)
		case l.RefundID != "":
			m.WriteString(l.RefundID)
		default:
			// A refund without a number (made in a platform's console):
			// two of them on one trade differ at least in time or amount.
			m.Write(strconv.AppendInt(buf[:0], l.Time.UnixNano(), 10))
			m.WriteByte(0)
			m.Write(strconv.AppendInt(buf[:0], int64(l.Amount), 10))
		}
		h[i] = m.Sum64()
	}
	if line, dup := k.seen[h]; dup {
		return int(line), false
	}
	k.seen[h] = int32(min(l.Line, 1<<31-1))
	return 0, true
}
