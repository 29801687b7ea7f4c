package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/paydesk/paydesk/gateway"
)

// OrderStatus is an order's local state.
type OrderStatus string

const (
	OrderPending           OrderStatus = "PENDING"
	OrderPaid              OrderStatus = "PAID"
	OrderClosed            OrderStatus = "CLOSED"
	OrderRefunded          OrderStatus = "REFUNDED"
	OrderPartiallyRefunded OrderStatus = "PARTIALLY_REFUNDED"
)

// OrderStatuses lists every status in lifecycle order.
var OrderStatuses = []OrderStatus{OrderPending, OrderPaid, OrderPartiallyRefunded, OrderRefunded, OrderClosed}

// ParseOrderStatus accepts a status name in any case.
func ParseOrderStatus(s string) (OrderStatus, error) {
	u := OrderStatus(strings.ToUpper(strings.TrimSpace(s)))
	for _, st := range OrderStatuses {
		if u == st {
			return st, nil
		}
	}
	return "", fmt.Errorf("unknown order status %q (want one of PENDING, PAID, PARTIALLY_REFUNDED, REFUNDED, CLOSED)", s)
}

// IsPaid reports whether money was received for the order (refunds later
// do not undo that it was paid).
func (s OrderStatus) IsPaid() bool {
	return s == OrderPaid || s == OrderRefunded || s == OrderPartiallyRefunded
}

// PaidVia says which fact made an order PAID.
type PaidVia string

const (
	ViaNotify PaidVia = "notify"
	ViaQuery  PaidVia = "query"
	ViaImport PaidVia = "import"
)

// Order is a merchant order.
type Order struct {
	ID         int64           `json:"-"`
	OutTradeNo string          `json:"out_trade_no"`
	Channel    gateway.Channel `json:"channel"`
	Amount     gateway.Money   `json:"amount"`
	Currency   string          `json:"currency"`
	Subject    string          `json:"subject"`
	Status     OrderStatus     `json:"status"`
	TradeNo    string          `json:"trade_no,omitempty"`
	PaidAt     time.Time       `json:"paid_at,omitzero"`
	PaidVia    PaidVia         `json:"paid_via,omitempty"`
	Refunded   gateway.Money   `json:"refunded"`
	CreatedAt  time.Time       `json:"created_at"`
	UpdatedAt  time.Time       `json:"updated_at"`
}

// Refundable is what may still be refunded before pending refunds are
// counted (those are checked by BeginRefund).
func (o Order) Refundable() gateway.Money {
	if !o.Status.IsPaid() {
		return 0
	}
	return o.Amount - o.Refunded
}

// Errors of order operations.
var (
	ErrOrderNotFound  = errors.New("order not found")
	ErrDuplicateOrder = errors.New("order already exists")
)

const orderColumns = `id, out_trade_no, channel, amount, currency, subject, status, trade_no, paid_at, paid_via, refunded, created_at, updated_at`

type rowScanner interface{ Scan(dest ...any) error }

func scanOrder(r rowScanner) (Order, error) {
	var o Order
	var tradeNo, paidVia sql.NullString
	var paidAt sql.NullInt64
	var created, updated int64
	err := r.Scan(&o.ID, &o.OutTradeNo, &o.Channel, &o.Amount, &o.Currency, &o.Subject, &o.Status,
		&tradeNo, &paidAt, &paidVia, &o.Refunded, &created, &updated)
	o.TradeNo, o.PaidVia = tradeNo.String, PaidVia(paidVia.String)
	o.PaidAt, o.CreatedAt, o.UpdatedAt = fromNullMS(paidAt), fromMS(created), fromMS(updated)
	return o, err
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// OrderImporter inserts orders inside one import transaction.
type OrderImporter struct {
	stmt *sql.Stmt
	now  int64
	n    int
}

// Insert adds one order. A number that already exists is ErrDuplicateOrder.
func (im *OrderImporter) Insert(ctx context.Context, o Order) error {
	if o.Currency == "" {
		o.Currency = "CNY"
	}
	var paidVia any
	if o.Status.IsPaid() {
		paidVia = string(ViaImport)
	}
	_, err := im.stmt.ExecContext(ctx, o.OutTradeNo, o.Channel, int64(o.Amount), o.Currency, o.Subject, o.Status,
		nullString(o.TradeNo), msOrNull(o.PaidAt), paidVia, int64(o.Refunded), ms(o.CreatedAt), im.now)
	if isUniqueViolation(err) {
		return fmt.Errorf("%w: %s", ErrDuplicateOrder, o.OutTradeNo)
	}
	if err != nil {
		return fmt.Errorf("insert order %s: %w", o.OutTradeNo, err)
	}
	im.n++
	return nil
}

// ImportOrders runs fill inside one transaction: every order fill inserts
// lands, or (when fill or an insert fails) none does.
func (s *Store) ImportOrders(ctx context.Context, now time.Time, fill func(*OrderImporter) error) (int, error) {
	var n int
	err := s.tx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO orders
			(out_trade_no, channel, amount, currency, subject, status, trade_no, paid_at, paid_via, refunded, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		im := &OrderImporter{stmt: stmt, now: ms(now)}
		if err := fill(im); err != nil {
			return err
		}
		n = im.n
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

// GetOrder returns one order by its merchant number.
func (s *Store) GetOrder(ctx context.Context, outTradeNo string) (Order, error) {
	o, err := scanOrder(s.r.QueryRowContext(ctx, `SELECT `+orderColumns+` FROM orders WHERE out_trade_no = ?`, outTradeNo))
	if errors.Is(err, sql.ErrNoRows) {
		return Order{}, fmt.Errorf("%w: %s", ErrOrderNotFound, outTradeNo)
	}
	return o, err
}

// OrderFilter narrows a listing. Zero fields do not filter.
type OrderFilter struct {
	Status  OrderStatus
	Channel gateway.Channel
	Since   time.Time // created at or after
	Until   time.Time // created before
	// Number matches a prefix of the merchant order number or of the
	// platform trade number.
	Number string
}

func (f OrderFilter) where() (string, []any) {
	var conds []string
	var args []any
	if f.Status != "" {
		conds = append(conds, "status = ?")
		args = append(args, string(f.Status))
	}
	if f.Channel != "" {
		conds = append(conds, "channel = ?")
		args = append(args, string(f.Channel))
	}
	if !f.Since.IsZero() {
		conds = append(conds, "created_at >= ?")
		args = append(args, ms(f.Since))
	}
	if !f.Until.IsZero() {
		conds = append(conds, "created_at < ?")
		args = append(args, ms(f.Until))
	}
	if f.Number != "" {
		// A range, not LIKE, so the unique index on out_trade_no and the
		// trade_no index serve it: every string with the prefix sorts
		// below prefix+0xFF, which no UTF-8 byte reaches.
		hi := f.Number + "\xff"
		conds = append(conds, "((out_trade_no >= ? AND out_trade_no < ?) OR (trade_no >= ? AND trade_no < ?))")
		args = append(args, f.Number, hi, f.Number, hi)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// Cursor marks a position in the newest-first order of a listing.
type Cursor struct {
	CreatedAt time.Time
	ID        int64
}

// CursorOf returns the position of an order.
func CursorOf(o Order) Cursor { return Cursor{o.CreatedAt, o.ID} }

// Direction of a page relative to its cursor.
type Direction int

const (
	// Older pages towards older orders: the page after the cursor; with no
	// cursor, the first (newest) page.
	Older Direction = iota
	// Newer pages towards newer orders: the page before the cursor; with no
	// cursor, the last (oldest) page.
	Newer
)

// ListOrders returns up to limit orders newest first, by keyset from a
// cursor: paging costs the same at the millionth row as at the first.
func (s *Store) ListOrders(ctx context.Context, f OrderFilter, from *Cursor, dir Direction, limit int) ([]Order, error) {
	where, args := f.where()
	if from != nil {
		op := "<"
		if dir == Newer {
			op = ">"
		}
		cond := fmt.Sprintf("(created_at, id) %s (?, ?)", op)
		if where == "" {
			where = " WHERE " + cond
		} else {
			where += " AND " + cond
		}
		args = append(args, ms(from.CreatedAt), from.ID)
	}
	order := " ORDER BY created_at DESC, id DESC"
	if dir == Newer {
		order = " ORDER BY created_at ASC, id ASC"
	}
	args = append(args, limit)
	rows, err := s.r.QueryContext(ctx, `SELECT `+orderColumns+` FROM orders`+where+order+` LIMIT ?`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]Order, 0, limit)
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if dir == Newer {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out, nil
}

// CountOrders counts the orders a filter selects.
func (s *Store) CountOrders(ctx context.Context, f OrderFilter) (int, error) {
	where, args := f.where()
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM orders`+where, args...).Scan(&n)
	return n, err
}
