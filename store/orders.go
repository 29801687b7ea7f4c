package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

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

// importBatch is how many orders one INSERT carries: per-statement overhead
// in the driver is about half the cost of a row, and 100 rows keep the
// statement under SQLite's 32766-parameter limit.
const importBatch = 100

const importColumns = 12

var importRow = "(" + strings.TrimSuffix(strings.Repeat("?,", importColumns), ",") + ")"

// OrderImporter inserts orders inside one import transaction.
type OrderImporter struct {
	engine  Engine
	raw     *rawImport // SQLite (import_sqlite.go)
	tx      *Tx
	full    *Stmt // importBatch rows
	now     int64
	firstID int64 // ids above this were inserted by this import
	pending []Order
	args    []any
	n       int
	counts  map[[2]string]int64
}

// Insert adds one order. A number that already exists is ErrDuplicateOrder,
// reported when the batch holding it is written (at the latest by Flush);
// the error names the number and says whether it was already stored or
// appears twice in this import.
func (im *OrderImporter) Insert(ctx context.Context, o Order) error {
	if o.Currency == "" {
		o.Currency = "CNY"
	}
	im.pending = append(im.pending, o)
	if len(im.pending) == im.batch() {
		return im.Flush(ctx)
	}
	return nil
}

// batch is how many orders go in one INSERT.
func (im *OrderImporter) batch() int {
	if im.raw != nil {
		return rawImportBatch
	}
	return importBatch
}

// Flush writes the buffered orders.
func (im *OrderImporter) Flush(ctx context.Context) error {
	if len(im.pending) == 0 {
		return nil
	}
	if im.raw != nil {
		return im.raw.hand(im)
	}
	im.args = im.args[:0]
	for _, o := range im.pending {
		var paidVia any
		if o.Status.IsPaid() {
			paidVia = string(ViaImport)
		}
		im.args = append(im.args, o.OutTradeNo, string(o.Channel), int64(o.Amount), o.Currency, o.Subject, string(o.Status),
			nullString(o.TradeNo), msOrNull(o.PaidAt), paidVia, int64(o.Refunded), ms(o.CreatedAt), im.now)
	}
	if im.engine == Postgres {
		if err := im.insertSkippingDuplicates(ctx); err != nil {
			return err
		}
	} else {
		var err error
		if len(im.pending) == importBatch {
			_, err = im.full.ExecContext(ctx, im.args...)
		} else {
			_, err = im.tx.ExecContext(ctx, insertOrdersSQL(len(im.pending)), im.args...)
		}
		if err != nil {
			return im.explain(ctx, err)
		}
	}
	im.done()
	return nil
}

// done counts the pending orders as inserted.
func (im *OrderImporter) done() {
	for _, o := range im.pending {
		im.counts[[2]string{string(o.Channel), string(o.Status)}]++
	}
	im.n += len(im.pending)
	im.pending = im.pending[:0]
}

// explain turns a failed batch into an error about the order that caused
// it. On SQLite a failed statement leaves the transaction usable (just that
// statement is rolled back), so the rows are tried one by one to find it.
func (im *OrderImporter) explain(ctx context.Context, batchErr error) error {
	one := insertOrdersSQL(1)
	for i, o := range im.pending {
		_, err := im.tx.ExecContext(ctx, one, im.args[i*importColumns:(i+1)*importColumns]...)
		if err == nil {
			continue
		}
		if isUniqueViolation(err) {
			return im.duplicate(ctx, i, false)
		}
		return &ImportRowError{Index: im.n + i, OutTradeNo: o.OutTradeNo, Err: fmt.Errorf("insert order %s: %w", o.OutTradeNo, err)}
	}
	return fmt.Errorf("insert orders: %w", batchErr)
}

// insertSkippingDuplicates writes the batch on PostgreSQL, where a failed
// statement aborts the whole transaction: a number already taken is skipped
// instead of failing, and the first skipped row is the error.
func (im *OrderImporter) insertSkippingDuplicates(ctx context.Context) error {
	inserted := map[string]int{}
	err := eachRow(ctx, im.tx, insertOrdersSQL(len(im.pending))+` ON CONFLICT (out_trade_no) DO NOTHING RETURNING out_trade_no`,
		func(rows *sql.Rows) error {
			var no string
			err := rows.Scan(&no)
			inserted[no]++
			return err
		}, im.args...)
	if err != nil {
		first, last := im.pending[0].OutTradeNo, im.pending[len(im.pending)-1].OutTradeNo
		return fmt.Errorf("insert orders %s … %s: %w", first, last, err)
	}
	seen := map[string]bool{}
	for i, o := range im.pending {
		if inserted[o.OutTradeNo] > 0 {
			inserted[o.OutTradeNo]--
			seen[o.OutTradeNo] = true
			continue
		}
		return im.duplicate(ctx, i, seen[o.OutTradeNo])
	}
	return nil
}

// duplicate is the error for the i-th pending order, whose number is taken:
// by an order stored before this import, or by one earlier in it.
func (im *OrderImporter) duplicate(ctx context.Context, i int, inBatch bool) error {
	o := im.pending[i]
	var id int64
	_ = im.tx.QueryRowContext(ctx, `SELECT id FROM orders WHERE out_trade_no = ?`, o.OutTradeNo).Scan(&id)
	where := "already in the database"
	if inBatch || id > im.firstID {
		where = "appears twice in this import"
	}
	return &ImportRowError{Index: im.n + i, OutTradeNo: o.OutTradeNo, Err: fmt.Errorf("%w: %s %s", ErrDuplicateOrder, o.OutTradeNo, where)}
}

// ImportRowError says which inserted order (0-based, in Insert order) failed.
type ImportRowError struct {
	Index      int
	OutTradeNo string
	Err        error
}

func (e *ImportRowError) Error() string { return e.Err.Error() }
func (e *ImportRowError) Unwrap() error { return e.Err }

func insertOrdersSQL(rows int) string {
	return `INSERT INTO orders (out_trade_no, channel, amount, currency, subject, status, trade_no, paid_at, paid_via, refunded, created_at, updated_at) VALUES ` +
		strings.TrimSuffix(strings.Repeat(importRow+",", rows), ",")
}

// ImportOrders runs fill inside one transaction: every order fill inserts
// lands, or (when fill or an insert fails) none does.
func (s *Store) ImportOrders(ctx context.Context, now time.Time, fill func(*OrderImporter) error) (int, error) {
	if s.engine == SQLite {
		return s.importOrdersSQLite(ctx, now, fill)
	}
	var n int
	err := s.txAlone(ctx, func(tx *Tx) error {
		im := &OrderImporter{engine: s.engine, tx: tx, now: ms(now), counts: map[[2]string]int64{}}
		if s.engine == SQLite {
			full, err := tx.PrepareContext(ctx, insertOrdersSQL(importBatch))
			if err != nil {
				return err
			}
			defer full.Close()
			im.full = full
		}
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM orders`).Scan(&im.firstID); err != nil {
			return err
		}
		if err := fill(im); err != nil {
			return err
		}
		if err := im.Flush(ctx); err != nil {
			return err
		}
		// PostgreSQL stripes each count (see its 0001_init.sql); an import
		// adds to the first stripe.
		shard := ""
		if s.engine == Postgres {
			shard = " AND shard = 0"
		}
		for k, c := range im.counts {
			if _, err := tx.ExecContext(ctx, `UPDATE order_counts SET n = n + ? WHERE channel = ? AND status = ?`+shard, c, k[0], k[1]); err != nil {
				return err
			}
		}
		n = im.n
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// GetOrder returns one order by its merchant number.
func (s *Store) GetOrder(ctx context.Context, outTradeNo string) (Order, error) {
	o, err := scanOrder(s.readRow(ctx, selectOrderSQL, outTradeNo))
	if errors.Is(err, sql.ErrNoRows) {
		return Order{}, fmt.Errorf("%w: %s", ErrOrderNotFound, outTradeNo)
	}
	return o, err
}

// GetOrderByTrade returns the order a platform trade number paid on a
// channel: the order whose recorded payment it is, or (when the trade is a
// recorded duplicate payment) the order it paid twice.
func (s *Store) GetOrderByTrade(ctx context.Context, ch gateway.Channel, tradeNo string) (Order, error) {
	o, err := scanOrder(s.r.QueryRowContext(ctx, `SELECT `+orderColumns+` FROM orders WHERE trade_no = ? AND channel = ?`, tradeNo, ch))
	if errors.Is(err, sql.ErrNoRows) {
		var no string
		if derr := s.r.QueryRowContext(ctx, `SELECT out_trade_no FROM duplicate_payments WHERE channel = ? AND trade_no = ?`, ch, tradeNo).Scan(&no); derr == nil {
			return s.GetOrder(ctx, no)
		}
		return Order{}, fmt.Errorf("%w: trade %s", ErrOrderNotFound, tradeNo)
	}
	return o, err
}

// OrderFilter narrows a listing. Zero fields do not filter.
type OrderFilter struct {
	Status  OrderStatus
	Channel gateway.Channel
	Since   time.Time // created at or after
	Until   time.Time // created before
	// Number matches a prefix of the merchant order number or, when no
	// merchant number has that prefix, of the platform trade number. A
	// listing by number is sorted by that number.
	Number string
}

// orderKey is the column a listing is sorted and paged by.
type orderKey string

const (
	byCreated    orderKey = "created_at"
	byOutTradeNo orderKey = "out_trade_no"
	byTradeNo    orderKey = "trade_no"
)

// plan picks the sort key and builds the WHERE clause. A number prefix is
// served as a range on its own index, sorted by that number: sorting the
// matches by time instead would cost a sort of every match (tens of
// thousands for a short prefix).
func (s *Store) plan(ctx context.Context, f OrderFilter) (orderKey, []string, []any, error) {
	var conds []string
	var args []any
	key := byCreated
	if f.Number != "" {
		key = byOutTradeNo
		hi := prefixEnd(f.Number)
		var one int
		err := s.r.QueryRowContext(ctx, `SELECT 1 FROM orders WHERE out_trade_no >= ? AND out_trade_no < ? LIMIT 1`, f.Number, hi).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			key = byTradeNo
		} else if err != nil {
			return "", nil, nil, err
		}
		conds = append(conds, fmt.Sprintf("%s >= ? AND %s < ?", key, key))
		args = append(args, f.Number, hi)
	}
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
	return key, conds, args, nil
}

// Cursor marks a position in a listing: the sort key of an order (its
// creation time, or its number in a listing by number) and its id.
type Cursor struct {
	CreatedAt time.Time
	Number    string
	ID        int64
}

func (k orderKey) cursorOf(o Order) Cursor {
	c := Cursor{CreatedAt: o.CreatedAt, ID: o.ID}
	switch k {
	case byOutTradeNo:
		c.Number = o.OutTradeNo
	case byTradeNo:
		c.Number = o.TradeNo
	}
	return c
}

// Page is one page of a listing with the cursors of its first and last
// rows, from which the pages before and after it are read.
type Page struct {
	Orders      []Order
	First, Last Cursor
}

// Direction of a page relative to its cursor.
type Direction int

const (
	// Older pages forward (towards older orders, or higher numbers): the
	// page after the cursor; with no cursor, the first page.
	Older Direction = iota
	// Newer pages backward: the page before the cursor; with no cursor,
	// the last page.
	Newer
)

// ListOrders returns up to limit orders, newest first (or by number for a
// number filter), by keyset from a cursor: a page costs the same at the
// millionth row as at the first.
func (s *Store) ListOrders(ctx context.Context, f OrderFilter, from *Cursor, dir Direction, limit int) (Page, error) {
	key, conds, args, err := s.plan(ctx, f)
	if err != nil {
		return Page{}, err
	}
	// Time runs newest first; numbers run ascending.
	forward := "DESC"
	if key != byCreated {
		forward = "ASC"
	}
	sortDir := forward
	if dir == Newer {
		sortDir = flip(forward)
	}
	if from != nil {
		op := "<"
		if sortDir == "ASC" {
			op = ">"
		}
		conds = append(conds, fmt.Sprintf("(%s, id) %s (?, ?)", key, op))
		switch key {
		case byCreated:
			args = append(args, ms(from.CreatedAt))
		default:
			args = append(args, from.Number)
		}
		args = append(args, from.ID)
	}
	q := `SELECT ` + orderColumns + ` FROM orders`
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	q += fmt.Sprintf(" ORDER BY %s %s, id %s LIMIT ?", key, sortDir, sortDir)
	args = append(args, limit)
	orders, err := collect(ctx, s.r, q, scanOrder, args...)
	if err != nil {
		return Page{}, err
	}
	p := Page{Orders: orders}
	if p.Orders == nil {
		p.Orders = []Order{}
	}
	if dir == Newer {
		slices.Reverse(p.Orders)
	}
	if len(p.Orders) > 0 {
		p.First, p.Last = key.cursorOf(p.Orders[0]), key.cursorOf(p.Orders[len(p.Orders)-1])
	}
	return p, nil
}

func flip(d string) string {
	if d == "ASC" {
		return "DESC"
	}
	return "ASC"
}

// CountOrders counts the orders a filter selects. Filters on status and
// channel alone are answered from order_counts; the rest count an index
// range.
func (s *Store) CountOrders(ctx context.Context, f OrderFilter) (int, error) {
	n, _, err := s.CountOrdersUpTo(ctx, f, 0)
	return n, err
}

// CountOrdersUpTo is CountOrders that stops past limit (0: no limit) and
// then says so (more): counting a range is a walk of it, and a prefix that
// matches every order walks the whole index (hundreds of milliseconds at a
// million orders) to print a number nobody reads digit by digit.
func (s *Store) CountOrdersUpTo(ctx context.Context, f OrderFilter, limit int) (n int, more bool, err error) {
	if f.Number == "" && f.Since.IsZero() && f.Until.IsZero() {
		q := `SELECT CAST(coalesce(sum(n), 0) AS BIGINT) FROM order_counts WHERE 1=1`
		var args []any
		if f.Status != "" {
			q += ` AND status = ?`
			args = append(args, string(f.Status))
		}
		if f.Channel != "" {
			q += ` AND channel = ?`
			args = append(args, string(f.Channel))
		}
		err := s.r.QueryRowContext(ctx, q, args...).Scan(&n)
		return n, false, err
	}
	_, conds, args, err := s.plan(ctx, f)
	if err != nil {
		return 0, false, err
	}
	return s.countUpTo(ctx, `orders WHERE `+strings.Join(conds, " AND "), args, limit)
}

// countUpTo counts the rows of "FROM from", stopping past limit (0: no
// limit).
func (s *Store) countUpTo(ctx context.Context, from string, args []any, limit int) (n int, more bool, err error) {
	q := `SELECT count(*) FROM ` + from
	if limit > 0 {
		q = `SELECT count(*) FROM (SELECT 1 FROM ` + from + ` LIMIT ?) AS counted`
		args = append(args, limit+1)
	}
	if err := s.r.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, false, err
	}
	if limit > 0 && n > limit {
		return limit, true, nil
	}
	return n, false, nil
}

// prefixEnd is the least string above every string that starts with p, in
// the byte order both engines compare numbers in (SQLite's BINARY, and
// COLLATE "C" on PostgreSQL): p with its last character incremented. UTF-8
// keeps code-point order byte by byte, so the result is valid UTF-8, which
// PostgreSQL requires of text.
func prefixEnd(p string) string {
	for p != "" {
		r, size := utf8.DecodeLastRuneInString(p)
		p = p[:len(p)-size]
		switch {
		case r == utf8.RuneError && size == 1:
			return p + "\xff" // not UTF-8: no stored number can match anyway
		case r == utf8.MaxRune:
			continue // carry into the previous character
		case r == 0xD7FF:
			r = 0xE000 // surrogates are not characters
		default:
			r++
		}
		return p + string(r)
	}
	return "\U0010FFFF\U0010FFFF"
}
