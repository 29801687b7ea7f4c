package ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/recon"
	"github.com/paydesk/paydesk/store"
)

// FindingDetail is what a person needs to decide about one finding: the
// local order with its timeline, the callbacks, the live queries, and the
// usual next step. The bill line as the platform wrote it is read apart
// (FindingBillLine): it means reading the kept bill up to that line.
type FindingDetail struct {
	Finding store.Finding `json:"finding"`
	// Order is the local order with its timeline, callbacks and queries;
	// nil when paydesk has no order of that number.
	Order *OrderDetail `json:"order,omitempty"`
	// Callbacks are the stored callbacks that name the finding's order
	// number, newest first: the order's own, or those of a payment
	// paydesk has no order for.
	Callbacks []store.Notification `json:"callbacks"`
	// Action is the usual next step for the finding's category.
	Action string `json:"action"`
}

// CurrentRecon returns the trade run of (channel, day) that stands, and
// whether the day was reconciled at all.
func (s *Service) CurrentRecon(ctx context.Context, ch gateway.Channel, day string) (store.Run, bool, error) {
	return s.CurrentReconOf(ctx, ch, day, store.BillTrade)
}

// CurrentReconOf is CurrentRecon for a kind of run (store.BillTrade,
// store.BillFunds).
func (s *Service) CurrentReconOf(ctx context.Context, ch gateway.Channel, day, kind string) (store.Run, bool, error) {
	if err := s.allow(ctx, ActRead, ""); err != nil {
		return store.Run{}, false, err
	}
	run, err := s.store.CurrentRunOf(ctx, ch, day, kind)
	if errors.Is(err, store.ErrRunNotFound) {
		return store.Run{}, false, nil
	}
	return run, err == nil, err
}

// FindingDetail reads one finding with everything around it. Opening a
// finding only reads: no query is made, nothing is written.
func (s *Service) FindingDetail(ctx context.Context, id int64) (FindingDetail, error) {
	if err := s.allow(ctx, ActRead, "finding "+strconv.FormatInt(id, 10)); err != nil {
		return FindingDetail{}, err
	}
	f, err := s.store.GetFinding(ctx, id)
	if err != nil {
		return FindingDetail{}, err
	}
	d := FindingDetail{Finding: f, Action: recon.Category(f.Category).Action()}
	if f.OutTradeNo == "" {
		return d, nil
	}
	o, err := s.showOrder(ctx, f.OutTradeNo)
	switch {
	case err == nil:
		d.Order, d.Callbacks = &o, o.Notifications
	case errors.Is(err, store.ErrOrderNotFound):
		d.Callbacks, err = s.store.ListNotifications(ctx, store.NotificationFilter{OutTradeNo: f.OutTradeNo}, 0, 100)
		if err != nil {
			return d, err
		}
	default:
		return d, err
	}
	return d, nil
}

// ErrNoBillLine is returned for a finding that names no bill line: a
// local booking the bill lacks.
var ErrNoBillLine = errors.New("the finding names no bill line (the bill has no such booking)")

// FindingBillLine reads a finding's bill line as the platform wrote it,
// again from the kept bill file (the store keeps a reference, not the
// lines): its day's bill, or for an item carried from an earlier day
// (FirstDay), that day's. The file must still be the one reconciled (same
// sha256), or the line is not given.
func (s *Service) FindingBillLine(ctx context.Context, id int64) (gateway.LineText, error) {
	if err := s.allow(ctx, ActRead, "finding "+strconv.FormatInt(id, 10)); err != nil {
		return gateway.LineText{}, err
	}
	f, err := s.store.GetFinding(ctx, id)
	if err != nil {
		return gateway.LineText{}, err
	}
	if f.BillLine <= 0 {
		return gateway.LineText{}, ErrNoBillLine
	}
	if recon.Category(f.Category).Kind() == recon.RunFunds {
		// A fund finding's line is a movement of its own run's fund bill.
		run, err := s.store.GetRun(ctx, f.RunID)
		if err != nil {
			return gateway.LineText{}, err
		}
		fr, done, err := s.openKeptFunds(*run.Bill)
		if err != nil {
			return gateway.LineText{}, err
		}
		return lineTextAt(run.Bill.FileName, f.BillLine, fr.Next, func(l *gateway.FundLine) int { return l.Line }, fr, done)
	}
	day := f.Day
	if f.FirstDay != "" {
		day = f.FirstDay
	}
	run, err := s.store.CurrentRun(ctx, f.Channel, day)
	if err != nil {
		return gateway.LineText{}, fmt.Errorf("the bill of %s %s: %w", f.Channel, day, err)
	}
	br, done, err := s.openKeptBill(*run.Bill, 0)
	if err != nil {
		return gateway.LineText{}, err
	}
	return lineTextAt(run.Bill.FileName, f.BillLine, br.Next, func(l *gateway.BillLine) int { return l.Line }, br, done)
}

// lineTextAt reads a kept bill up to line and gives that line's text; done
// releases the file (and checks its hash once all of it was read).
func lineTextAt[T any](file string, line int, next func() (*T, error), lineOf func(*T) int, reader any, done func(bool) error) (gateway.LineText, error) {
	lt, ok := reader.(gateway.LineTexter)
	if !ok {
		_ = done(false)
		return gateway.LineText{}, fmt.Errorf("the %s reader cannot give a line's text", file)
	}
	for {
		l, err := next()
		if errors.Is(err, io.EOF) || (err == nil && lineOf(l) > line) {
			_ = done(false)
			return gateway.LineText{}, fmt.Errorf("%s has no detail row at line %d", file, line)
		}
		if err != nil {
			_ = done(false)
			return gateway.LineText{}, err
		}
		if lineOf(l) == line {
			text := lt.LineText()
			return text, done(true)
		}
	}
}
