package ops

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/store"
)

// OrderRow is an order as a listing shows it: the local record beside the
// platform's state from the latest live query and the latest callback.
type OrderRow struct {
	store.Order
	// Platform is the latest live query, nil when never queried.
	Platform *store.TradeQuery `json:"platform,omitempty"`
	// Callback is the apply status of the newest notification, empty when
	// none arrived.
	Callback store.ApplyStatus `json:"callback,omitempty"`
	// Disagrees: the platform's last word contradicts the local status.
	Disagrees bool `json:"disagrees"`
}

// OrderPage is one page of orders with the cursors to page on.
type OrderPage struct {
	Rows        []OrderRow   `json:"orders"`
	First, Last store.Cursor `json:"-"`
}

// ListOrders returns one keyset page of orders; see store.ListOrders.
func (s *Service) ListOrders(ctx context.Context, f store.OrderFilter, from *store.Cursor, dir store.Direction, limit int) (OrderPage, error) {
	if err := s.allow(ctx, ActRead, ""); err != nil {
		return OrderPage{}, err
	}
	if limit <= 0 || limit > 10000 {
		return OrderPage{}, fmt.Errorf("page size %d: want 1..10000", limit)
	}
	p, err := s.store.ListOrders(ctx, f, from, dir, limit)
	if err != nil {
		return OrderPage{}, err
	}
	nos := make([]string, len(p.Orders))
	for i, o := range p.Orders {
		nos[i] = o.OutTradeNo
	}
	queries, err := s.store.LatestTradeQueries(ctx, nos)
	if err != nil {
		return OrderPage{}, err
	}
	callbacks, err := s.store.LatestNotifyStatus(ctx, nos)
	if err != nil {
		return OrderPage{}, err
	}
	out := OrderPage{Rows: make([]OrderRow, len(p.Orders)), First: p.First, Last: p.Last}
	for i, o := range p.Orders {
		r := OrderRow{Order: o, Callback: callbacks[o.OutTradeNo]}
		if q, ok := queries[o.OutTradeNo]; ok {
			r.Platform = &q
			r.Disagrees = Disagrees(o, q)
		}
		out.Rows[i] = r
	}
	return out, nil
}

// CountOrders counts what a filter selects.
func (s *Service) CountOrders(ctx context.Context, f store.OrderFilter) (int, error) {
	if err := s.allow(ctx, ActRead, ""); err != nil {
		return 0, err
	}
	return s.store.CountOrders(ctx, f)
}

// Count is a count that may have stopped early: More says there are more
// than N.
type Count struct {
	N    int  `json:"n"`
	More bool `json:"more,omitempty"`
}

// CountLimit is where the console stops counting (it shows "100,000+"):
// a count is a walk of the matching range, and past this many rows it
// would make a key press wait (a prefix matching a million orders takes a
// few hundred milliseconds to count) for a figure nobody reads exactly.
const CountLimit = 100_000

// CountOrdersUpTo counts what a filter selects, up to CountLimit.
func (s *Service) CountOrdersUpTo(ctx context.Context, f store.OrderFilter) (Count, error) {
	if err := s.allow(ctx, ActRead, ""); err != nil {
		return Count{}, err
	}
	n, more, err := s.store.CountOrdersUpTo(ctx, f, CountLimit)
	return Count{N: n, More: more}, err
}

// PlatformNotFound is the platform state logged when the platform has no
// trade for the order (the query itself is logged as failed).
const PlatformNotFound = "NOT_FOUND"

// Disagrees reports whether a live query contradicts the local order: the
// one verdict the query, the listings, the timeline and the exports share.
// It is what QueryTrade reports as a disagreement, read back from the query
// log:
//   - the platform says paid (or refunded) and the order is not paid here;
//   - the order is paid here and the platform says otherwise, or has never
//     heard of it (a suspected forged callback);
//   - both say paid, under different trade numbers;
//   - the platform shows a refund on an order paid here without one;
//   - the order is PENDING here and the platform has closed it.
//
// A query that failed in any other way says nothing either way.
func Disagrees(o store.Order, q store.TradeQuery) bool {
	if q.PlatformState == PlatformNotFound && q.State == "" {
		return o.Status.IsPaid()
	}
	if q.Error != "" && q.State == "" {
		return false
	}
	platformPaid := q.State == gateway.TradePaid || q.State == gateway.TradeRefunded
	switch {
	case o.Status.IsPaid() != platformPaid:
		return true
	case platformPaid && q.TradeNo != "" && o.TradeNo != "" && q.TradeNo != o.TradeNo:
		return true
	case q.State == gateway.TradeRefunded && o.Status == store.OrderPaid:
		return true // refunded at the platform, not here
	case q.State == gateway.TradeClosed && o.Status == store.OrderPending:
		return true // the buyer can no longer pay: the order should close
	}
	return false
}

// OrderDetail is everything paydesk knows about one order.
type OrderDetail struct {
	Order         store.Order              `json:"order"`
	Ceiling       store.Ceiling            `json:"-"`
	Refundable    gateway.Money            `json:"refundable"`
	Notifications []store.Notification     `json:"notifications"`
	Queries       []store.TradeQuery       `json:"queries"`
	Refunds       []store.Refund           `json:"refunds"`
	Duplicates    []store.DuplicatePayment `json:"duplicate_payments"`
	Audit         []store.AuditEntry       `json:"audit"`
	Timeline      []TimelineEntry          `json:"timeline"`
	// Actions are the refunds a person must act on (ABNORMAL), each with
	// what to do.
	Actions []RefundNeedingAction `json:"actions,omitempty"`
}

// TimelineEntry is one dated event in an order's life.
type TimelineEntry struct {
	At   time.Time `json:"at"`
	Kind string    `json:"kind"` // created, paid, notification, query, refund, duplicate, audit
	Text string    `json:"text"`
	// Bad marks an event that needs attention (rejected callback,
	// failed query or refund, duplicate payment).
	Bad bool `json:"bad,omitempty"`
}

// ShowOrder returns one order with its notifications, queries, refunds,
// duplicate payments and audit entries, and a timeline of all of them.
func (s *Service) ShowOrder(ctx context.Context, outTradeNo string) (OrderDetail, error) {
	if err := s.allow(ctx, ActRead, outTradeNo); err != nil {
		return OrderDetail{}, err
	}
	return s.showOrder(ctx, outTradeNo)
}

func (s *Service) showOrder(ctx context.Context, outTradeNo string) (OrderDetail, error) {
	var d OrderDetail
	var err error
	d.Ceiling, d.Order, err = s.store.RefundCeiling(ctx, outTradeNo)
	if err != nil {
		return d, err
	}
	d.Refundable = d.Ceiling.Remaining()
	load := []func() error{
		func() (err error) {
			d.Notifications, err = s.store.ListNotificationsWithoutRaw(ctx, store.NotificationFilter{OutTradeNo: outTradeNo}, 0, 1000)
			return
		},
		func() (err error) { d.Queries, err = s.store.TradeQueries(ctx, outTradeNo); return },
		func() (err error) {
			d.Refunds, err = s.store.ListRefunds(ctx, store.RefundFilter{OutTradeNo: outTradeNo}, 0, 1000)
			return
		},
		func() (err error) { d.Duplicates, err = s.store.DuplicatePayments(ctx, outTradeNo); return },
		func() (err error) {
			d.Audit, err = s.store.ListAudit(ctx, store.AuditFilter{Target: outTradeNo}, 0, 1000)
			return
		},
	}
	for _, f := range load {
		if err := f(); err != nil {
			return d, err
		}
	}
	d.Timeline = timeline(d)
	d.Actions = refundsNeedingAction(d.Refunds)
	return d, nil
}

func timeline(d OrderDetail) []TimelineEntry {
	o := d.Order
	t := []TimelineEntry{{At: o.CreatedAt, Kind: "created", Text: fmt.Sprintf("created on %s for %s", o.Channel, o.Amount.Yuan())}}
	if o.Status.IsPaid() {
		at, when := o.PaidAt, ""
		if at.IsZero() {
			at, when = o.CreatedAt, ", payment time unknown"
		}
		t = append(t, TimelineEntry{At: at, Kind: "paid", Text: fmt.Sprintf("paid by %s %s (via %s%s)", o.Channel, o.TradeNo, o.PaidVia, when)})
	}
	for _, n := range d.Notifications {
		text := fmt.Sprintf("callback #%d %s: %s %s", n.ID, n.Event, n.VerifyStatus, n.ApplyStatus)
		if n.ApplyDetail != "" {
			text += " — " + n.ApplyDetail
		} else if n.VerifyError != "" {
			text += " — " + n.VerifyError
		}
		t = append(t, TimelineEntry{At: n.ReceivedAt, Kind: "notification", Text: text, Bad: n.ApplyStatus.Failed()})
	}
	for _, q := range d.Queries {
		text := fmt.Sprintf("queried by %s: %s", q.Operator, q.PlatformState)
		if q.Error != "" {
			text = fmt.Sprintf("query by %s failed: %s", q.Operator, q.Error)
		}
		t = append(t, TimelineEntry{At: q.At, Kind: "query", Text: text, Bad: q.Error != "" || Disagrees(o, q)})
	}
	for _, r := range d.Refunds {
		text := fmt.Sprintf("refund %s of %s %s (%s)", r.OutRequestNo, r.Amount.Yuan(), r.Status, r.Source)
		if r.Reason != "" {
			text += ": " + r.Reason
		}
		if r.Status.NeedsAction() {
			text += " — needs action: the money left but did not reach the buyer (异常退款); see actions"
		}
		t = append(t, TimelineEntry{At: r.CreatedAt, Kind: "refund", Text: text,
			Bad: r.Status == gateway.RefundFailed || r.Status.NeedsAction() || r.NeedsReview})
	}
	for _, dp := range d.Duplicates {
		t = append(t, TimelineEntry{At: dp.CreatedAt, Kind: "duplicate", Text: fmt.Sprintf("paid AGAIN by %s %s (%s)", dp.Channel, dp.TradeNo, dp.Amount.Yuan()), Bad: true})
	}
	for _, a := range d.Audit {
		by := a.Operator
		if a.Via != "" {
			by += " via " + a.Via
		}
		text := fmt.Sprintf("%s by %s: %s", a.Action, by, a.Outcome)
		if a.Detail != "" {
			text += " — " + a.Detail
		}
		t = append(t, TimelineEntry{At: a.At, Kind: "audit", Text: text, Bad: a.Outcome != store.AuditOK})
	}
	slices.SortStableFunc(t, func(a, b TimelineEntry) int { return a.At.Compare(b.At) })
	return t
}

// IsNotFound reports whether err means the thing asked for does not exist.
func IsNotFound(err error) bool {
	return errors.Is(err, store.ErrOrderNotFound) || errors.Is(err, store.ErrRefundNotFound) ||
		errors.Is(err, store.ErrNotificationNotFound)
}
