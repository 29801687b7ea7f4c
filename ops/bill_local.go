package ops

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/store"
)

// A bill given as a file is parsed while it is kept: the copy into the
// workspace and its hash take a tenth of a large run (2.9 s of 24 s at ten
// million lines, bench/README.md) and need nothing from the parse, nor the
// parse from them. Since nothing reads the copy during the run, it is
// written past the page cache (internal/directio): through the cache, its
// pages of memory slowed the whole run by a quarter at ten million lines.
// Both read one open file, so they read the same file even if its name is
// moved meanwhile; a file written to while it is read is refused (its size
// or modification time moved), since what was parsed might then not be
// what was kept. The run is saved only with the kept
// bill, as before (ARCHITECTURE.md §3 rule 7).

// localBill is a bill file open for parsing while a copy of it is kept.
type localBill struct {
	f    *os.File
	name string
	info os.FileInfo
	kept chan keptBill
	res  *keptBill // kept's value, once taken
}

// keptBill is what keeping the copy gave.
type keptBill struct {
	bill    store.Bill
	durable func() error
	err     error
}

// keepWhileParsing opens the bill at path and starts keeping a copy of it
// in the workspace; the caller parses lb.f meanwhile, takes the kept bill
// with lb.wait before saving anything, and closes lb (which removes the
// copy if the run failed).
func (s *Service) keepWhileParsing(ctx context.Context, ch gateway.Channel, day time.Time, kind, path string, progress func(ReconProgress)) (*localBill, error) {
	// Nowhere to keep it is known now, not after the parse.
	if _, err := s.billsDir(ch); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	info, err := f.Stat()
	switch {
	case err != nil:
		f.Close()
		return nil, fmt.Errorf("read %s: %w", path, err)
	case info.IsDir():
		f.Close()
		return nil, fmt.Errorf("read %s: is a directory", path)
	case info.Size() == 0:
		f.Close()
		return nil, emptyBill(filepath.Base(path))
	}
	lb := &localBill{f: f, name: filepath.Base(path), info: info, kept: make(chan keptBill, 1)}
	// The size is known: the download stage is reported done at once, and
	// the copy's own progress is not reported (it would move the run's
	// stage back while lines are already being matched).
	progress(ReconProgress{Stage: StageDownload, Done: info.Size(), Total: info.Size(), Message: fmt.Sprintf("%s (%s)", lb.name, humanBytes(info.Size()))})
	go func() {
		// Not canceled with the run: a copy that has begun is finished and
		// then removed by close, never left half-kept.
		b, durable, err := s.keepBytes(context.WithoutCancel(ctx), ch, day, kind, true, func(ReconProgress) {}, func(w io.Writer) (string, string, error) {
			if _, err := io.Copy(w, io.NewSectionReader(f, 0, info.Size())); err != nil {
				return "", "", fmt.Errorf("read %s: %w", path, err)
			}
			return "file", lb.name, nil
		})
		lb.kept <- keptBill{bill: b, durable: durable, err: err}
	}()
	return lb, nil
}

// result waits for the copy once.
func (lb *localBill) result() keptBill {
	if lb.res == nil {
		k := <-lb.kept
		lb.res = &k
	}
	return *lb.res
}

// wait returns the kept bill, and refuses it if the file changed while it
// was read.
func (lb *localBill) wait() (store.Bill, func() error, error) {
	k := lb.result()
	if k.err != nil {
		return store.Bill{}, nil, k.err
	}
	now, err := lb.f.Stat()
	if err != nil {
		return store.Bill{}, nil, fmt.Errorf("read %s: %w", lb.name, err)
	}
	if now.Size() != lb.info.Size() || !now.ModTime().Equal(lb.info.ModTime()) || k.bill.Size != lb.info.Size() {
		return store.Bill{}, nil, fmt.Errorf("%s changed while it was read (%d bytes modified %s, now %d bytes modified %s): nothing was saved; run again once nothing writes to it",
			lb.name, lb.info.Size(), lb.info.ModTime().Format(time.RFC3339Nano), now.Size(), now.ModTime().Format(time.RFC3339Nano))
	}
	return k.bill, k.durable, nil
}

// close waits for the copy, removes it if the run failed, and closes the
// file.
func (lb *localBill) close(ctx context.Context, s *Service, failed error) {
	if k := lb.result(); k.err == nil {
		_ = k.durable() // the background sync ends before the run returns
		if failed != nil {
			s.discardBill(ctx, k.bill)
		}
	}
	lb.f.Close()
}

// runBill is the bill a run parses: a file given by path, parsed while it
// is kept (localBill), or a download, kept first and parsed from its copy
// in the workspace. Trade and fund runs take their bill the same way.
type runBill struct {
	f       *os.File
	bill    store.Bill // for a file given by path, only its name until kept
	durable func() error
	local   *localBill
}

// openRunBill opens the bill of (ch, day) of a kind for a run to parse.
// The caller closes it with the run's error.
func (s *Service) openRunBill(ctx context.Context, ch gateway.Channel, day time.Time, kind, path string, progress func(ReconProgress)) (*runBill, error) {
	if path != "" {
		local, err := s.keepWhileParsing(ctx, ch, day, kind, path, progress)
		if err != nil {
			return nil, err
		}
		return &runBill{f: local.f, bill: store.Bill{FileName: local.name}, local: local}, nil
	}
	bill, durable, err := s.acquireBill(ctx, ch, day, kind, path, progress)
	if err != nil {
		return nil, err
	}
	rb := &runBill{bill: bill, durable: durable}
	if err := keptAsKind(bill, kind); err != nil {
		rb.close(ctx, s, err)
		return nil, err
	}
	if rb.f, err = os.Open(bill.Path); err != nil {
		rb.close(ctx, s, err)
		return nil, err
	}
	return rb, nil
}

// kept returns the kept bill once the parse is done, and the wait for it
// to reach the disk, which the run takes before saving (ARCHITECTURE.md §3
// rule 7).
func (rb *runBill) kept(kind string) (store.Bill, func() error, error) {
	if rb.local == nil {
		return rb.bill, rb.durable, nil
	}
	bill, durable, err := rb.local.wait()
	if err == nil {
		err = keptAsKind(bill, kind)
	}
	return bill, durable, err
}

// close ends the run's use of the bill: it waits for the copy to reach the
// disk, removes it if the run failed, and closes the file.
func (rb *runBill) close(ctx context.Context, s *Service, failed error) {
	if rb.local != nil {
		rb.local.close(ctx, s, failed)
		return
	}
	if rb.f != nil {
		rb.f.Close()
	}
	if failed != nil {
		s.discardBill(ctx, rb.bill)
	}
	_ = rb.durable() // the background sync ends before the run returns
}
