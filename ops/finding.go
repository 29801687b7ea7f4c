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

// CurrentRecon returns the run of (channel, day) that stands, and whether
// the day was reconciled at all.
func (s *Service) CurrentRecon(ctx context.Context, ch gateway.Channel, day string) (store.Run, bool, error) {
	if err := s.allow(ctx, ActRead, ""); err != nil {
		return store.Run{}, false, err
	}
	run, err := s.store.CurrentRun(ctx, ch, day)
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
	day := f.Day
	if f.FirstDay != "" {
		day = f.FirstDay
	}
	run, err := s.store.CurrentRun(ctx, f.Channel, day)
	if err != nil {
		return gateway.LineText{}, fmt.Errorf("the bill of %s %s: %w", f.Channel, day, err)
	}
	br, done, err := s.openKeptBill(*run.Bill)
	if err != nil {
		return gateway.LineText{}, err
	}
	lt, ok := br.(gateway.LineTexter)
	if !ok {
		_ = done(false)
		return gateway.LineText{}, fmt.Errorf("the %s bill reader cannot give a line's text", f.Channel)
	}
	for {
		l, err := br.Next()
		if errors.Is(err, io.EOF) || (err == nil && l.Line > f.BillLine) {
			_ = done(false)
			return gateway.LineText{}, fmt.Errorf("%s has no detail row at line %d", run.Bill.FileName, f.BillLine)
		}
		if err != nil {
			_ = done(false)
			return gateway.LineText{}, err
		}
		if l.Line == f.BillLine {
			text := lt.LineText()
			return text, done(true)
		}
	}
}
