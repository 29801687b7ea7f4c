package alipay

import (
	"archive/zip"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/klauspost/compress/flate"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/paydesk/paydesk/gateway"
)

// maxSummary bounds the summary file (业务明细(汇总)): one row per store and
// the 合计 row, a few kilobytes for any merchant.
const maxSummary = 16 << 20

// isZip reports whether head starts a zip file.
func isZip(head []byte) bool {
	return len(head) >= 4 && head[0] == 'P' && head[1] == 'K' && (head[2] == 3 || head[2] == 5)
}

// randomAccess is what lets a zip be read where it lies (an *os.File, a
// bytes.Reader): its central directory, then its entries, without holding
// it in memory.
type randomAccess interface {
	io.ReaderAt
	io.Seeker
}

// zipAt returns r as a zip readable at random when it is one: directly when
// r can be read at random, else read into memory (bounded by maxBillZip).
// ok is false when r does not hold a zip; then next reads r from where it
// was.
func zipAt(name string, r io.Reader) (ra io.ReaderAt, size int64, next io.Reader, ok bool, err error) {
	if s, isRA := r.(randomAccess); isRA {
		pos, err1 := s.Seek(0, io.SeekCurrent)
		end, err2 := s.Seek(0, io.SeekEnd)
		if err1 == nil && err2 == nil {
			if _, err := s.Seek(pos, io.SeekStart); err != nil {
				return nil, 0, nil, false, &gateway.BillError{File: name, Err: fmt.Errorf("%w: %v", ErrBillTruncated, err)}
			}
			var head [4]byte
			n, _ := s.ReadAt(head[:], pos)
			if !isZip(head[:n]) {
				return nil, 0, r, false, nil
			}
			return io.NewSectionReader(s, pos, end-pos), end - pos, nil, true, nil
		}
	}
	br := bufio.NewReaderSize(r, 256<<10)
	if head, _ := br.Peek(4); !isZip(head) {
		return nil, 0, br, false, nil
	}
	data, err := io.ReadAll(io.LimitReader(br, maxBillZip+1))
	if err != nil {
		return nil, 0, nil, false, &gateway.BillError{File: name, Err: fmt.Errorf("%w: reading the zip: %v", ErrBillTruncated, err)}
	}
	return bytes.NewReader(data), int64(len(data)), nil, true, nil
}

// openSource starts reading r: the detail file of kind in it when it is a
// bill zip (read where it lies when r allows), else r itself as the detail
// file; either way bounded by the options' inflated-size cap.
func (b *billReader) openSource(name string, r io.Reader, kind string) error {
	ra, size, next, isZip, err := zipAt(name, r)
	if err != nil {
		return err
	}
	if !isZip {
		b.br = bufio.NewReaderSize(gateway.LimitInflated(next, b.Opt.Limits.MaxInflated), 256<<10)
		return nil
	}
	if err := b.openZip(name, ra, size, kind); err != nil {
		b.close()
		return err
	}
	return nil
}

// The detail files a bill zip holds, by kind: the trade bill's
// …_业务明细.csv (beside its 业务明细(汇总) summary) and the fund bill's
// …_账务明细.csv.
const (
	tradeDetail = "业务明细"
	fundDetail  = "账务明细"
)

// openZip opens the detail file of kind in a bill zip for the rows, after
// reading the trade bill's summary file when it holds one. A fund bill's
// summary (账务明细(汇总)) is not read: its detail file states its own
// totals.
func (b *billReader) openZip(name string, ra io.ReaderAt, size int64, kind string) error {
	if size > maxBillZip {
		return &gateway.BillError{File: name, Err: fmt.Errorf("%w: zip of %d bytes, more than %d", gateway.ErrBillTooLarge, size, maxBillZip)}
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return &gateway.BillError{File: name, Err: fmt.Errorf("%w: not a readable zip: %v", ErrBillTruncated, err)}
	}
	detail, summary, err := billEntries(zr, kind)
	if err != nil {
		return &gateway.BillError{File: name, Err: fmt.Errorf("%w: %v", ErrBillLayout, err)}
	}
	if summary.f != nil && kind == tradeDetail {
		if err := b.readSummary(name+"/"+summary.name, summary.f, ra); err != nil {
			return err
		}
	}
	b.file = name + "/" + detail.name
	// A detail row is about 200 bytes: the keys of the rows checked for
	// repeats get their room at once (gateway.BillKeys.Expect), within the
	// caps (a header that lies is refused when the entry ends; the room it
	// asked for was never written to).
	b.Keys.Expect(min(int(min(detail.f.UncompressedSize64, uint64(b.Opt.Limits.MaxInflated))/200), b.Opt.Limits.MaxLines))
	rc, err := openEntry(detail.f, ra, b.Opt.Limits.MaxInflated)
	if err != nil {
		return &gateway.BillError{File: b.file, Err: err}
	}
	// Inflating runs ahead on a goroutine of its own: it is half of the
	// parse's CPU (gateway.ReadAhead).
	ahead := gateway.ReadAhead(rc, 256<<10, 4)
	b.closer = closers{ahead, rc}
	b.br = bufio.NewReaderSize(ahead, 256<<10)
	return nil
}

// closers closes each in order.
type closers []io.Closer

func (cs closers) Close() error {
	var errs []error
	for _, c := range cs {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// openEntry opens a zip entry for reading where it lies. A deflated entry
// is inflated from a bufio.Reader, which the inflater reads through its
// fast path (a quarter quicker than the reader archive/zip hands it); the
// CRC-32 and size are checked all the same, and the inflated bytes stop at
// max, whatever the entry's header claims. The inflater is
// klauspost/compress's: it reads the same deflate format a third faster
// than compress/flate, and inflating is most of the parse at a million
// lines (bench/README.md).
func openEntry(f *zip.File, ra io.ReaderAt, max int64) (io.ReadCloser, error) {
	if f.UncompressedSize64 > uint64(max) {
		return nil, fmt.Errorf("%w: entry states %d bytes inflated, more than %d", gateway.ErrBillTooLarge, f.UncompressedSize64, max)
	}
	if f.Method != zip.Deflate && f.Method != zip.Store {
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBillTruncated, err)
		}
		return &checkedEntry{r: rc, lr: gateway.LimitInflated(rc, max), size: f.UncompressedSize64}, nil
	}
	off, err := f.DataOffset()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBillTruncated, err)
	}
	raw := io.NewSectionReader(ra, off, int64(f.CompressedSize64))
	var r io.ReadCloser = io.NopCloser(raw)
	if f.Method == zip.Deflate {
		r = flate.NewReader(bufio.NewReaderSize(raw, 64<<10))
	}
	return &checkedEntry{r: r, lr: gateway.LimitInflated(r, max), want: f.CRC32, size: f.UncompressedSize64}, nil
}

// checkedEntry checks an entry's CRC-32 and size as archive/zip's own
// reader does (a zero CRC-32 means none was recorded), and stops as soon as
// the entry inflates past the size its header states.
type checkedEntry struct {
	r    io.ReadCloser
	lr   io.Reader // r, bounded
	crc  uint32
	n    uint64
	want uint32
	size uint64
}

func (c *checkedEntry) Read(p []byte) (int, error) {
	n, err := c.lr.Read(p)
	c.crc = crc32.Update(c.crc, crc32.IEEETable, p[:n])
	c.n += uint64(n)
	if c.n > c.size {
		return n, fmt.Errorf("%w: entry inflates past the %d bytes its header states", ErrBillTruncated, c.size)
	}
	if err == io.EOF {
		if c.n != c.size {
			return n, fmt.Errorf("entry is %d bytes, its header says %d: %w", c.n, c.size, zip.ErrFormat)
		}
		if c.want != 0 && c.crc != c.want {
			return n, zip.ErrChecksum
		}
	}
	return n, err
}

func (c *checkedEntry) Close() error { return c.r.Close() }

// zipEntry is an entry of a bill zip with its name in UTF-8.
type zipEntry struct {
	f    *zip.File
	name string
}

// billEntries finds the detail file of kind in a bill zip (…_业务明细.csv,
// …_账务明细.csv) and its summary file (…_<kind>(汇总).csv), which may be
// absent.
func billEntries(zr *zip.Reader, kind string) (detail, summary zipEntry, err error) {
	var names []string
	for _, f := range zr.File {
		n := zipEntryName(f)
		names = append(names, n)
		base := path.Base(n)
		var dst *zipEntry
		switch {
		case strings.HasSuffix(base, kind+".csv") && !strings.Contains(base, "汇总"):
			dst = &detail
		case strings.Contains(base, kind) && strings.Contains(base, "汇总") && strings.HasSuffix(base, ".csv"):
			dst = &summary
		default:
			continue
		}
		if dst.f != nil {
			return zipEntry{}, zipEntry{}, fmt.Errorf("zip holds two such files, %s and %s", dst.name, n)
		}
		*dst = zipEntry{f, n}
	}
	if detail.f == nil {
		return zipEntry{}, zipEntry{}, fmt.Errorf("zip holds no …_%s.csv detail file (entries: %q)", kind, names)
	}
	return detail, summary, nil
}

// zipEntryName decodes an entry name. Alipay's zips store GBK names without
// the UTF-8 flag; a zip remade by a tool may store UTF-8 with or without it.
func zipEntryName(f *zip.File) string {
	raw := f.Name
	if f.Flags&0x800 != 0 || isASCII(raw) {
		return raw
	}
	if utf8.ValidString(raw) && (strings.Contains(raw, tradeDetail) || strings.Contains(raw, fundDetail)) {
		return raw
	}
	if s, err := simplifiedchinese.GB18030.NewDecoder().String(raw); err == nil && !strings.ContainsRune(s, utf8.RuneError) {
		return s
	}
	return strings.ToValidUTF8(raw, "?")
}
