package store

import (
	"context"
	"fmt"
	"unsafe"

	"github.com/paydesk/paydesk/gateway"
)

// The day's orders for reconciliation, read from SQLite beneath
// database/sql (see sqlite_raw.go). The query is answered from the
// orders_by_channel_paid index alone: it holds every column a match needs,
// in (channel, paid_at) order, so a slice of the day is one range of one
// index and the table itself is not read. The paid orders without a payment
// time come from the partial index orders_paid_untimed, which SQLite uses
// only when the query repeats its condition as written (migration 0012).

const (
	byPaidSQLite = `SELECT out_trade_no, amount, trade_no, status, paid_via, paid_at FROM orders
		WHERE channel = ?1 AND paid_at >= ?2 AND paid_at < ?3`
	unpaidTimeSQLite = `SELECT out_trade_no, amount, trade_no, status, paid_via, created_at FROM orders
		WHERE channel = ?1 AND created_at >= ?2 AND created_at < ?3
		AND paid_at IS NULL AND (status = 'PAID' OR status = 'PARTIALLY_REFUNDED' OR status = 'REFUNDED')`
)

// verifiedSQLite looks up the notification fact of an order not paid by a
// notification (paid by one, it has it): one probe of
// notifications_by_order, for the few orders that need it, instead of an
// expression evaluated on every row.
var verifiedSQLite = `SELECT 1 FROM notifications WHERE out_trade_no = ?1 AND verify_status = 'VERIFIED' AND event = 'PAYMENT'
	AND apply_status IN ` + deliveredStatuses + ` LIMIT 1`

// scanPaidSQLite reads one slice on a connection of its own. A row's
// columns are read where SQLite holds them; the two numbers are copied into
// one block of memory per batch (the strings point into it and it is never
// written again), and the short strings are mapped to their constants.
func (s *Store) scanPaidSQLite(ctx context.Context, sl paidSlice, q *paidQueue) error {
	c, err := openRaw(s.path, false)
	if err != nil {
		return err
	}
	defer c.close()
	query := byPaidSQLite
	if sl.unpaidTime {
		query = unpaidTimeSQLite
	}
	st, err := c.prepare(query)
	if err != nil {
		return err
	}
	defer st.finalize()
	verified, err := c.prepare(verifiedSQLite)
	if err != nil {
		return err
	}
	defer verified.finalize()
	if err := st.bindText(1, []byte(sl.ch)); err != nil {
		return err
	}
	if err := st.bindInt64(2, ms(sl.from)); err != nil {
		return err
	}
	if err := st.bindInt64(3, ms(sl.to)); err != nil {
		return err
	}
	b := q.get()
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		row, err := st.step()
		if err != nil {
			return err
		}
		if !row {
			break
		}
		no, trade := st.text(0), st.text(2)
		if !b.room(len(no) + len(trade)) {
			if len(b.orders) == 0 {
				return fmt.Errorf("order %.64q: numbers of %d bytes", no, len(no)+len(trade))
			}
			if err := q.send(ctx, b); err != nil {
				return err
			}
			b = q.get()
		}
		base := len(b.text)
		b.text = append(append(b.text, no...), trade...)
		o := PaidOrder{
			Channel: sl.ch,
			Amount:  gateway.Money(st.int64(1)),
			Status:  internStatus(st.text(3)),
			PaidVia: PaidVia(internVia(st.text(4))),
		}
		if len(no) > 0 {
			o.OutTradeNo = unsafe.String(&b.text[base], len(no))
		}
		if len(trade) > 0 {
			o.TradeNo = unsafe.String(&b.text[base+len(no)], len(trade))
		}
		if sl.unpaidTime {
			o.CreatedAt = fromMS(st.int64(5))
		} else {
			o.PaidAt = fromMS(st.int64(5))
		}
		if o.NotifyVerified = o.PaidVia == ViaNotify; !o.NotifyVerified {
			if o.NotifyVerified, err = rawExists(verified, no); err != nil {
				return err
			}
		}
		b.orders = append(b.orders, o)
	}
	if len(b.orders) > 0 {
		return q.send(ctx, b)
	}
	return nil
}

// rawExists runs a one-parameter existence query.
func rawExists(st *rawStmt, arg []byte) (bool, error) {
	if err := st.bindText(1, arg); err != nil {
		return false, err
	}
	row, err := st.step()
	if rerr := st.reset(); err == nil {
		err = rerr
	}
	return row, err
}
