package ops

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/internal/directio"
	"github.com/paydesk/paydesk/store"
)

// ErrNoBillsDir means there is no folder to keep a bill in: a PostgreSQL
// store has no file to keep them beside.
var ErrNoBillsDir = errors.New("no folder for kept bills: set [store] bills_dir in paydesk.toml")

// billsDir is where a channel's bills are kept: under Options.BillsDir
// (by default beside the SQLite file).
func (s *Service) billsDir(ch gateway.Channel) (string, error) {
	if s.billsRoot == "" {
		return "", ErrNoBillsDir
	}
	return filepath.Join(s.billsRoot, string(ch)), nil
}

// OpenBill parses a trade bill of a channel in the business zone, with the
// parser the channel's platform package registered in gateway. It holds
// the bill to nothing but its own totals, nor checks its rows for repeats:
// for a bill kept after its checks, read again by a caller that checks its
// hash at its end (openKept: exports, a fund run's bookings).
func (s *Service) OpenBill(ch gateway.Channel, name string, r io.Reader) (gateway.BillReader, error) {
	return s.openKeptText(ch, name, r, 0)
}

// openKeptText is OpenBill with BillOptions.TextRows.
func (s *Service) openKeptText(ch gateway.Channel, name string, r io.Reader, textRows int) (gateway.BillReader, error) {
	f, err := gateway.LookupBillFormat(ch, gateway.TradeBill)
	if err != nil {
		return nil, err
	}
	return f.Open(name, r, gateway.BillOptions{Zone: s.zone, Kept: true, TextRows: textRows})
}

// OpenFundBill parses a fund bill of a channel as OpenBill does a trade
// bill: with the parser the platform registered for its fund bills, held to
// nothing but its own totals.
func (s *Service) OpenFundBill(ch gateway.Channel, name string, r io.Reader) (gateway.FundReader, error) {
	f, err := gateway.LookupBillFormat(ch, gateway.FundBill)
	if err != nil {
		return nil, err
	}
	return f.OpenFunds(name, r, gateway.BillOptions{Zone: s.zone, Kept: true})
}

// billOptions are what a bill acquired for (ch, day) is held to: the day,
// and the configured merchant id ([wechat] mchid, [alipay] pid), else the
// account the workspace's first bill stated. Trade and fund bills alike.
func (s *Service) billOptions(ctx context.Context, ch gateway.Channel, day time.Time) (gateway.BillOptions, error) {
	opt := gateway.BillOptions{Zone: s.zone, Day: day, Merchant: s.merchants[ch]}
	if opt.Merchant == "" {
		acct, ok, err := s.store.FirstBillAccount(ctx, ch)
		if err != nil {
			return opt, err
		}
		if ok {
			opt.Account = acct
		}
	}
	return opt, nil
}

// openBillOf opens the bill b acquired for (ch, day), holding it to the
// merchant and the day (billOptions). f must be b's file: read where it
// lies, a zip is never held in memory.
func (s *Service) openBillOf(ctx context.Context, ch gateway.Channel, day time.Time, b store.Bill, f *os.File) (gateway.BillReader, gateway.BillFormat, error) {
	format, err := gateway.LookupBillFormat(ch, gateway.TradeBill)
	if err != nil {
		return nil, format, err
	}
	opt, err := s.billOptions(ctx, ch, day)
	if err != nil {
		return nil, format, err
	}
	br, err := format.Open(b.FileName, f, opt)
	return br, format, err
}

// openFundBillOf is openBillOf for a fund bill: the same options, the
// platform's fund bill parser; textRows is BillOptions.TextRows.
func (s *Service) openFundBillOf(ctx context.Context, ch gateway.Channel, day time.Time, b store.Bill, f *os.File, textRows int) (gateway.FundReader, error) {
	format, err := gateway.LookupBillFormat(ch, gateway.FundBill)
	if err != nil {
		return nil, err
	}
	opt, err := s.billOptions(ctx, ch, day)
	if err != nil {
		return nil, err
	}
	opt.TextRows = textRows
	return format.OpenFunds(b.FileName, f, opt)
}

// billAccount is the account a bill stated (a trade or a fund bill's
// reader), to keep with it: the first bill of a workspace without a
// configured merchant id records whose bills it reconciles.
func billAccount(r any) string {
	if a, ok := r.(gateway.BillAccount); ok {
		return a.Account()
	}
	return ""
}

// acquireBill puts the bill of (ch, day) of a kind (store.BillTrade or
// store.BillFunds) into the workspace: downloaded through the platform when
// path is empty, else copied from path. The bytes are kept in a file named
// by their hash, so the same bill fetched twice is one file. The returned
// bill's ID is 0 until a run or FetchBill stores its row (or the row of an
// identical bill stored before).
//
// The file reaches the disk in the background (durable waits for it): on
// a busy disk that takes seconds for a large bill, while the run can
// already read it from memory. What is saved with the bill (a run, its
// record) is saved only once durable returns nil, so a crash never leaves
// a record of a bill that is not on disk.
func (s *Service) acquireBill(ctx context.Context, ch gateway.Channel, day time.Time, kind, path string, progress func(ReconProgress)) (_ store.Bill, durable func() error, _ error) {
	if path != "" {
		src, err := os.Open(path)
		if err != nil {
			return store.Bill{}, nil, err
		}
		defer src.Close()
		return s.keepBytes(ctx, ch, day, kind, false, progress, func(w io.Writer) (string, string, error) {
			if _, err := io.Copy(w, src); err != nil {
				return "", "", fmt.Errorf("read %s: %w", path, err)
			}
			return "file", filepath.Base(path), nil
		})
	}
	p, ok := s.platforms[ch]
	if !ok {
		return store.Bill{}, nil, fmt.Errorf("%s is not configured in paydesk.toml: give a bill file to reconcile from", ch)
	}
	download, what := p.DownloadBill, "bill"
	if kind == store.BillFunds {
		fd, ok := p.(gateway.FundBillDownloader)
		if !ok {
			return store.Bill{}, nil, fmt.Errorf("the %s client cannot download fund bills: give the fund bill file with --bill", ch)
		}
		download, what = fd.DownloadFundBill, "fund bill"
	}
	return s.keepBytes(ctx, ch, day, kind, false, progress, func(w io.Writer) (string, string, error) {
		f, err := download(ctx, day, w)
		if err != nil {
			return "", "", fmt.Errorf("download the %s %s of %s: %w", ch, what, day.Format(store.DayFormat), err)
		}
		return "download", f.Name, nil
	})
}

// keepBytes is acquireBill once the bytes' source is known: fill writes
// them and names where they came from (store.Bill's Source and FileName).
// direct writes the copy past the page cache (directio), for a copy that
// nothing reads now: the run parses the file it was made from.
func (s *Service) keepBytes(ctx context.Context, ch gateway.Channel, day time.Time, kind string, direct bool, progress func(ReconProgress), fill func(io.Writer) (source, name string, err error)) (_ store.Bill, durable func() error, _ error) {
	dir, err := s.billsDir(ch)
	if err != nil {
		return store.Bill{}, nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return store.Bill{}, nil, err
	}
	tmp, err := os.CreateTemp(dir, ".incoming-*")
	if err != nil {
		return store.Bill{}, nil, err
	}
	defer os.Remove(tmp.Name()) // after the rename this removes nothing
	h := sha256.New()
	counter := &byteCounter{report: func(n int64) { progress(ReconProgress{Stage: StageDownload, Done: n}) }}
	var dst io.Writer = tmp
	var dw *directio.Writer
	if direct {
		dw = directio.NewWriter(tmp)
		dst = dw
	}
	w := bufio.NewWriterSize(io.MultiWriter(dst, h, counter), 1<<20)
	b := store.Bill{Channel: ch, Day: day.Format(store.DayFormat), Kind: kind, CreatedAt: s.now()}
	if b.Source, b.FileName, err = fill(w); err != nil {
		tmp.Close()
		return store.Bill{}, nil, err
	}
	err = w.Flush()
	if dw != nil && err == nil {
		err = dw.Flush()
	}
	if err != nil {
		tmp.Close()
		return store.Bill{}, nil, err
	}
	if err := tmp.Close(); err != nil {
		return store.Bill{}, nil, err
	}
	b.SHA256, b.Size = hex.EncodeToString(h.Sum(nil)), counter.n
	if b.Size == 0 {
		return store.Bill{}, nil, emptyBill(b.FileName)
	}
	b.Path = filepath.Join(dir, fmt.Sprintf("%s-%s%s", b.Day, b.SHA256[:16], billExt(b.FileName)))
	if err := os.Rename(tmp.Name(), b.Path); err != nil {
		return store.Bill{}, nil, err
	}
	synced := make(chan error, 1)
	go func() { synced <- syncFile(b.Path) }()
	durable = sync.OnceValue(func() error { return <-synced })
	progress(ReconProgress{Stage: StageDownload, Done: b.Size, Total: b.Size, Message: fmt.Sprintf("%s (%s)", b.FileName, humanBytes(b.Size))})
	if known, ok, err := s.store.FindBill(ctx, ch, b.Day, b.SHA256); err != nil {
		return store.Bill{}, nil, errors.Join(err, durable())
	} else if ok {
		return known, durable, nil
	}
	return b, durable, nil
}

func emptyBill(name string) error { return fmt.Errorf("%s: the bill is empty", name) }

// syncFile makes a written file durable.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	return errors.Join(f.Sync(), f.Close())
}

// discardBill removes the file acquireBill put into the workspace for a
// bill that was then refused (it disagrees with itself, cannot be read, or
// the run failed): a bill file is kept only with the stored record that
// names it, and bad input changes nothing (ARCHITECTURE.md §3 rule 7). A bill that
// was already stored, or that another run stored meanwhile with the same
// bytes, keeps its file.
func (s *Service) discardBill(ctx context.Context, b store.Bill) {
	if b.ID != 0 {
		return
	}
	if _, stored, err := s.store.FindBill(context.WithoutCancel(ctx), b.Channel, b.Day, b.SHA256); err != nil || stored {
		return
	}
	if err := os.Remove(b.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log.Warn("refused bill not removed from the workspace", "path", b.Path, "err", err)
	}
}

// billExt keeps the kind of file a bill is (so a person opening the folder
// knows), from its name.
func billExt(name string) string {
	lower := strings.ToLower(name)
	for _, ext := range []string{".csv.zip", ".zip", ".csv.gz", ".gz", ".csv", ".txt"} {
		if strings.HasSuffix(lower, ext) {
			return ext
		}
	}
	return ".bill"
}

type byteCounter struct {
	n, last int64
	report  func(int64)
}

func (c *byteCounter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	if c.n-c.last >= 4<<20 {
		c.last = c.n
		c.report(c.n)
	}
	return len(p), nil
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// FetchBill downloads the bill of (ch, day) of a kind — store.BillTrade,
// the trade bill, or store.BillFunds, the account's fund bill (Alipay 账务明细,
// WeChat Pay 资金账单) — checks it as a run would (this merchant, this day,
// its own totals, no repeated row, the caps), and keeps it. Fetching the
// same bill again keeps nothing new.
func (s *Service) FetchBill(ctx context.Context, ch gateway.Channel, day time.Time, kind string) (store.Bill, error) {
	return s.keepBill(ctx, ch, day, kind, "")
}

// ImportBill keeps a bill file of a kind a person downloaded from the
// platform's web console (Alipay zip or CSV in GBK or UTF-8; WeChat text or
// gzip), after the same checks as FetchBill.
func (s *Service) ImportBill(ctx context.Context, ch gateway.Channel, day time.Time, kind, path string) (store.Bill, error) {
	return s.keepBill(ctx, ch, day, kind, path)
}

// billKindNames name the kinds of bills in messages and the audit log.
var billKindNames = map[string]string{store.BillTrade: "trade", store.BillFunds: "fund"}

// checkBillKind refuses a kind that is not a bill's.
func checkBillKind(kind string) error {
	if _, ok := billKindNames[kind]; !ok {
		return fmt.Errorf("unknown kind of bill %q: want %s (the trade bill) or %s (the account's fund bill)", kind, store.BillTrade, store.BillFunds)
	}
	return nil
}

// keptAsKind refuses a bill acquireBill found already kept (the same bytes)
// as the other kind: one file is never both.
func keptAsKind(b store.Bill, kind string) error {
	if b.ID != 0 && b.Kind != kind {
		return fmt.Errorf("%s is kept as the %s %s bill of %s, not a %s bill", b.FileName, b.Channel, billKindNames[b.Kind], b.Day, billKindNames[kind])
	}
	return nil
}

func (s *Service) keepBill(ctx context.Context, ch gateway.Channel, day time.Time, kind, path string) (store.Bill, error) {
	if err := checkBillKind(kind); err != nil {
		return store.Bill{}, err
	}
	what := "bill" // a trade bill, as the audit log has always named it
	if kind == store.BillFunds {
		what = "fund bill"
	}
	target := fmt.Sprintf("%s %s %s", ch, what, day.Format(store.DayFormat))
	if err := s.allow(ctx, ActReconcile, target); err != nil {
		return store.Bill{}, err
	}
	b, err := s.keepBillChecked(ctx, ch, day, kind, path)
	s.auditResult(ctx, ActReconcile, target, fmt.Sprintf("%s %s sha256 %s", what, b.FileName, b.SHA256), err)
	return b, err
}

func (s *Service) keepBillChecked(ctx context.Context, ch gateway.Channel, day time.Time, kind, path string) (_ store.Bill, err error) {
	day, _ = gateway.Day(day, s.zone)
	b, durable, err := s.acquireBill(ctx, ch, day, kind, path, func(ReconProgress) {})
	if err != nil {
		return store.Bill{}, err
	}
	if err := durable(); err != nil {
		return store.Bill{}, err
	}
	if b.ID != 0 {
		return b, keptAsKind(b, kind)
	}
	defer func() {
		if err != nil {
			s.discardBill(ctx, b)
		}
	}()
	f, err := os.Open(b.Path)
	if err != nil {
		return store.Bill{}, err
	}
	defer f.Close()
	if kind == store.BillFunds {
		fr, err := s.openFundBillOf(ctx, ch, day, b, f, 0)
		if err != nil {
			return store.Bill{}, err
		}
		n, err := countLines(fr.Next)
		if err != nil {
			return store.Bill{}, err
		}
		stated, computed := fr.Stated(), fr.Computed()
		b.FundStated, b.FundComputed, b.Lines, b.Account = &stated, &computed, n, billAccount(fr)
		return s.store.SaveBill(ctx, b)
	}
	br, _, err := s.openBillOf(ctx, ch, day, b, f)
	if err != nil {
		return store.Bill{}, err
	}
	n, err := countLines(br.Next)
	if err != nil {
		return store.Bill{}, err
	}
	b.Stated, b.Computed, b.Lines, b.Account = br.Stated(), br.Computed(), n, billAccount(br)
	return s.store.SaveBill(ctx, b)
}

// countLines reads a bill to its end, through every check its parser
// makes, and counts its lines.
func countLines[L any](next func() (*L, error)) (int, error) {
	n := 0
	for {
		_, err := next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
	}
}
