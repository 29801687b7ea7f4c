package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/paydesk/paydesk/gateway"
)

// An order import on SQLite runs beneath database/sql, on a connection of
// its own (sqlite_raw.go): batched prepared inserts whose values are bound
// straight from the orders, with no conversion to interfaces and back. An
// import into an empty table drops the table's indexes once it is large
// and builds them again at the end, in the same transaction: one sort per
// index instead of a B-tree insertion per row and index (bench/README.md,
// "Store: import"). The unique index on the order number stays: it is what
// refuses a number given twice, as it does for any import.

// The orders table's CHECK constraints cost SQLite half of an insert (each
// IN list was a table built for every statement, before migration 0012;
// evaluated per row they still cost), so the import connection
// does not evaluate them (PRAGMA ignore_check_constraints) and checkRow
// refuses what they refuse before a row is bound. ordersTableSQL is the
// table those checks were written for: the import refuses to run on
// another (TestImportChecksMatchTheTable holds the two together).
const ordersTableCheck = `channel IN ('alipay', 'wechat'))|amount > 0)|status = 'PENDING' OR status = 'PAID' OR status = 'CLOSED' OR status = 'REFUNDED' OR status = 'PARTIALLY_REFUNDED')|paid_via = 'notify' OR paid_via = 'query' OR paid_via = 'import')|refunded >= 0 AND refunded <= amount)`

// checkRow is the orders table's CHECK constraints, for one imported
// order (its paid_via is the import's own).
func checkRow(o *Order) error {
	switch {
	case o.Channel != gateway.Alipay && o.Channel != gateway.WeChat:
		return fmt.Errorf("CHECK constraint failed: channel %q is not alipay or wechat", o.Channel)
	case o.Amount <= 0:
		return fmt.Errorf("CHECK constraint failed: amount %s is not positive", o.Amount)
	case !slices.Contains(OrderStatuses, o.Status):
		return fmt.Errorf("CHECK constraint failed: status %q is not one of %v", o.Status, OrderStatuses)
	case o.Refunded < 0 || o.Refunded > o.Amount:
		return fmt.Errorf("CHECK constraint failed: refunded %s is not between 0 and the amount %s", o.Refunded, o.Amount)
	}
	return nil
}

// rawImportBatch is how many orders one INSERT carries here: with no
// per-value conversion the statement's own cost (its cursors opened and
// closed) is what a larger batch spreads thinner; 400 rows are 4,800
// parameters, well under SQLite's limit.
const rawImportBatch = 400

// bulkAfter is how many orders an import into an empty table inserts with
// every index kept before it drops them: a small import is not worth
// rebuilding them for.
const bulkAfter = 50_000

// rawImport is an import's statements on its raw connection, and the
// goroutine that runs them: the caller reads and checks the next orders
// (parsing a file, say) while SQLite inserts the last batch, each on a core
// of its own.
type rawImport struct {
	c       *rawConn
	full    *rawStmt // rawImportBatch rows
	one     *rawStmt // one row, to tell which row of a failed batch failed
	idOf    *rawStmt
	empty   bool     // the table was empty when the import began
	rebuild []string // the indexes dropped for a bulk import, to create again
	now     int64
	firstID int64
	lastID  int64 // the id of the last order inserted
	// createdInOrder and tradeInOrder say whether the orders inserted so
	// far came by creation time and by trade number (see dropIndexes).
	createdInOrder, tradeInOrder bool
	lastCreated                  int64
	lastTrade                    string

	jobs chan importJob
	free chan []Order
	done chan struct{} // closed when the inserter has stopped
	// err is the inserter's first error: set before done closes, and read
	// by the caller under mu until then.
	mu  sync.Mutex
	err error
}

// importJob is a batch of orders, the first being the start-th of the
// import.
type importJob struct {
	orders []Order
	start  int
}

// importOrdersSQLite is ImportOrders on SQLite.
func (s *Store) importOrdersSQLite(ctx context.Context, now time.Time, fill func(*OrderImporter) error) (int, error) {
	// Holding the writer connection makes this process's other writers
	// wait for the import, as they wait for any transaction of its own;
	// other processes wait on SQLite's lock (the busy timeout).
	conn, err := s.w.db.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	c, err := openRaw(s.path, true)
	if err != nil {
		return 0, err
	}
	defer c.close()
	// The store's own settings for a write: synchronous as the writer has
	// it, a page cache for the whole import, statement journals in memory,
	// the log folded back by the store's checkpointer (checkpoint_sqlite.go),
	// not inside this commit; and the CHECK constraints left to checkRow.
	if err := c.exec("PRAGMA synchronous = NORMAL; PRAGMA cache_size = -1048576; PRAGMA temp_store = MEMORY; PRAGMA ignore_check_constraints = 1; PRAGMA wal_autocheckpoint = 0"); err != nil {
		return 0, err
	}
	if err := c.exec("BEGIN IMMEDIATE"); err != nil {
		return 0, err
	}
	done := false
	defer func() {
		if !done {
			_ = c.exec("ROLLBACK")
		}
	}()
	ri := &rawImport{c: c}
	defer ri.close()
	if err := ri.checkTable(); err != nil {
		return 0, err
	}
	n, err := ri.run(ctx, now, fill)
	if err != nil {
		return 0, err
	}
	if err := c.exec("COMMIT"); err != nil {
		return 0, err
	}
	done = true
	return n, nil
}

func (ri *rawImport) run(ctx context.Context, now time.Time, fill func(*OrderImporter) error) (int, error) {
	var err error
	if ri.full, err = ri.c.prepare(insertOrdersSQLite(rawImportBatch)); err != nil {
		return 0, err
	}
	if ri.one, err = ri.c.prepare(insertOrdersSQLite(1)); err != nil {
		return 0, err
	}
	if ri.idOf, err = ri.c.prepare(`SELECT id FROM orders WHERE out_trade_no = ?1`); err != nil {
		return 0, err
	}
	im := &OrderImporter{engine: SQLite, raw: ri, now: ms(now), counts: map[[2]string]int64{}}
	if im.firstID, err = ri.queryInt(`SELECT coalesce(max(id), 0) FROM orders`); err != nil {
		return 0, err
	}
	ri.now, ri.firstID, ri.lastID = im.now, im.firstID, im.firstID
	ri.createdInOrder, ri.tradeInOrder = true, true
	any, err := ri.queryInt(`SELECT count(*) FROM (SELECT 1 FROM orders LIMIT 1)`)
	if err != nil {
		return 0, err
	}
	ri.empty = any == 0
	ri.jobs, ri.free, ri.done = make(chan importJob, 2), make(chan []Order, 4), make(chan struct{})
	go ri.insertAll()
	err = fill(im)
	if err == nil {
		err = im.Flush(ctx)
	}
	close(ri.jobs)
	<-ri.done
	if err != nil {
		return 0, err
	}
	if ri.err != nil {
		return 0, ri.err
	}
	for _, q := range ri.rebuild {
		if err := ri.c.exec(q); err != nil {
			return 0, fmt.Errorf("build index again after the import: %w", err)
		}
	}
	for k, n := range im.counts {
		if err := ri.c.exec(`UPDATE order_counts SET n = n + ` + strconv.FormatInt(n, 10) +
			` WHERE channel = '` + k[0] + `' AND status = '` + k[1] + `'`); err != nil {
			return 0, err
		}
	}
	return im.n, nil
}

func (ri *rawImport) close() {
	for _, st := range []*rawStmt{ri.full, ri.one, ri.idOf} {
		if st != nil {
			st.finalize()
		}
	}
}

// queryInt runs a query of one integer.
func (ri *rawImport) queryInt(q string) (int64, error) {
	st, err := ri.c.prepare(q)
	if err != nil {
		return 0, err
	}
	defer st.finalize()
	row, err := st.step()
	if err != nil || !row {
		return 0, errors.Join(err, errors.New("no row"))
	}
	return st.int64(0), nil
}

// checkTable makes sure the orders table's CHECK constraints are the ones
// checkRow enforces.
func (ri *rawImport) checkTable() error {
	st, err := ri.c.prepare(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'orders'`)
	if err != nil {
		return err
	}
	defer st.finalize()
	if row, err := st.step(); err != nil || !row {
		return errors.Join(err, errors.New("no orders table"))
	}
	if got := tableChecks(string(st.text(0))); got != ordersTableCheck {
		return fmt.Errorf("the orders table's CHECK constraints are %s; the import checks %s: teach checkRow the new ones", got, ordersTableCheck)
	}
	return nil
}

// tableChecks lists the CHECK constraints of a CREATE TABLE statement,
// each up to the end of its line, joined by "|".
func tableChecks(create string) string {
	var out []string
	for _, line := range strings.Split(create, "\n") {
		if _, c, ok := strings.Cut(line, "CHECK ("); ok {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(c), ","))
		}
	}
	return strings.Join(out, "|")
}

// dropIndexes drops the table's indexes for a bulk import, remembering how
// to build them again, but those cheaper to keep: the unique one on the
// order number (it refuses a number given twice), the partial one that
// indexes almost nothing (paid orders without a payment time), and those by
// creation time and by trade number while the import has given them their
// keys in order (an export of orders usually comes by time): an index that
// only grows at its end costs less than a sort of all its keys.
func (ri *rawImport) dropIndexes() error {
	keep := []string{"orders_paid_untimed"}
	if ri.createdInOrder {
		keep = append(keep, "orders_by_created")
	}
	if ri.tradeInOrder {
		keep = append(keep, "orders_by_trade_no")
	}
	st, err := ri.c.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'orders' AND sql IS NOT NULL
		AND name NOT IN ('` + strings.Join(keep, "', '") + `')`)
	if err != nil {
		return err
	}
	var names []string
	for {
		row, err := st.step()
		if err != nil {
			st.finalize()
			return err
		}
		if !row {
			break
		}
		names = append(names, string(st.text(0)))
		ri.rebuild = append(ri.rebuild, string(st.text(1)))
	}
	st.finalize()
	for _, n := range names {
		if err := ri.c.exec(`DROP INDEX "` + n + `"`); err != nil {
			return err
		}
	}
	return nil
}

// hand gives im's pending orders to the inserter, and returns its error if
// an earlier batch failed.
func (ri *rawImport) hand(im *OrderImporter) error {
	if err := ri.failed(); err != nil {
		return err
	}
	ri.jobs <- importJob{orders: im.pending, start: im.n}
	im.done()
	select {
	case b := <-ri.free:
		im.pending = b[:0]
	default:
		im.pending = make([]Order, 0, rawImportBatch)
	}
	return nil
}

func (ri *rawImport) failed() error {
	ri.mu.Lock()
	defer ri.mu.Unlock()
	return ri.err
}

// insertAll inserts the batches handed to it until they end or one fails.
func (ri *rawImport) insertAll() {
	defer close(ri.done)
	for job := range ri.jobs {
		if ri.failed() == nil {
			if err := ri.flush(job); err != nil {
				ri.mu.Lock()
				ri.err = err
				ri.mu.Unlock()
			}
		}
		select {
		case ri.free <- job.orders:
		default:
		}
	}
}

// flush writes a batch: a full one in one statement, a partial one row by
// row. The inserts are INSERT OR FAIL: a row that breaks a constraint stops
// its statement, keeping the rows before it, so SQLite keeps no statement
// journal to undo a statement with (a copy of every page a batch touches,
// a tenth of an import's time); the failure fails the whole import anyway.
func (ri *rawImport) flush(job importJob) error {
	if ri.empty && ri.rebuild == nil && job.start+len(job.orders) >= bulkAfter {
		if err := ri.dropIndexes(); err != nil {
			return err
		}
	}
	rows := job.orders
	if len(rows) == rawImportBatch {
		err := ri.insert(ri.full, rows, ri.now)
		if err == nil {
			return nil
		}
		var re *rawError
		if !errors.As(err, &re) || re.code&0xff != sqlite3.SQLITE_CONSTRAINT {
			return fmt.Errorf("insert orders: %w", err)
		}
		// The rows before the one to blame were inserted, with the ids
		// after the last one inserted before.
		kept := int(sqlite3.Xsqlite3_last_insert_rowid(ri.c.tls, ri.c.db) - ri.lastID)
		if kept < 0 || kept >= len(rows) {
			return fmt.Errorf("insert orders: %w", err)
		}
		job.start, rows = job.start+kept, rows[kept:]
	}
	for i := range rows {
		err := ri.insert(ri.one, rows[i:i+1], ri.now)
		var re *rawError
		switch {
		case err == nil:
		case errors.As(err, &re) && (re.code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || re.code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY):
			return ri.duplicate(importJob{orders: rows, start: job.start}, i)
		default:
			o := rows[i]
			return &ImportRowError{Index: job.start + i, OutTradeNo: o.OutTradeNo, Err: fmt.Errorf("insert order %s: %w", o.OutTradeNo, err)}
		}
	}
	return nil
}

// insert runs st with orders bound to it.
func (ri *rawImport) insert(st *rawStmt, orders []Order, now int64) error {
	for i := range orders {
		o := &orders[i]
		if err := checkRow(o); err != nil {
			return &rawError{code: sqlite3.SQLITE_CONSTRAINT_CHECK, msg: err.Error()}
		}
		if c := ms(o.CreatedAt); c < ri.lastCreated {
			ri.createdInOrder = false
		} else {
			ri.lastCreated = c
		}
		if o.TradeNo != "" {
			if o.TradeNo < ri.lastTrade {
				ri.tradeInOrder = false
			} else if ri.tradeInOrder {
				ri.lastTrade = o.TradeNo
			}
		}
	}
	for i := range orders {
		if err := ri.bind(st, 12*i, &orders[i], now); err != nil {
			st.reset()
			return err
		}
	}
	_, err := st.step()
	if rerr := st.reset(); err == nil && rerr != nil {
		err = rerr
	}
	if err == nil {
		ri.lastID = sqlite3.Xsqlite3_last_insert_rowid(ri.c.tls, ri.c.db)
	}
	return err
}

// bind binds one order's twelve columns from parameter base+1 on.
func (ri *rawImport) bind(st *rawStmt, base int, o *Order, now int64) error {
	var err error
	text := func(i int, s string) {
		if err == nil {
			err = st.bindString(base+i, s)
		}
	}
	nullText := func(i int, s string) {
		switch {
		case err != nil:
		case s == "":
			err = st.bindNull(base + i)
		default:
			err = st.bindString(base+i, s)
		}
	}
	integer := func(i int, v int64) {
		if err == nil {
			err = st.bindInt64(base+i, v)
		}
	}
	currency := o.Currency
	if currency == "" {
		currency = "CNY"
	}
	via := ""
	if o.Status.IsPaid() {
		via = string(ViaImport)
	}
	text(1, o.OutTradeNo)
	text(2, string(o.Channel))
	integer(3, int64(o.Amount))
	text(4, currency)
	text(5, o.Subject)
	text(6, string(o.Status))
	nullText(7, o.TradeNo)
	if o.PaidAt.IsZero() {
		if err == nil {
			err = st.bindNull(base + 8)
		}
	} else {
		integer(8, ms(o.PaidAt))
	}
	nullText(9, via)
	integer(10, int64(o.Refunded))
	integer(11, ms(o.CreatedAt))
	integer(12, now)
	return err
}

// duplicate is the error for the i-th pending order, whose number is taken:
// by an order stored before this import, or by one earlier in it.
func (ri *rawImport) duplicate(job importJob, i int) error {
	o := job.orders[i]
	var id int64
	if err := ri.idOf.bindText(1, []byte(o.OutTradeNo)); err == nil {
		if row, _ := ri.idOf.step(); row {
			id = ri.idOf.int64(0)
		}
	}
	ri.idOf.reset()
	where := "already in the database"
	if id > ri.firstID {
		where = "appears twice in this import"
	}
	return &ImportRowError{Index: job.start + i, OutTradeNo: o.OutTradeNo, Err: fmt.Errorf("%w: %s %s", ErrDuplicateOrder, o.OutTradeNo, where)}
}

// insertOrdersSQLite is insertOrdersSQL with numbered parameters, OR FAIL
// (see flush).
func insertOrdersSQLite(rows int) string {
	q := `INSERT OR FAIL INTO orders (out_trade_no, channel, amount, currency, subject, status, trade_no, paid_at, paid_via, refunded, created_at, updated_at) VALUES `
	for r := range rows {
		if r > 0 {
			q += ","
		}
		q += "("
		for c := range importColumns {
			if c > 0 {
				q += ","
			}
			q += "?" + strconv.Itoa(r*importColumns+c+1)
		}
		q += ")"
	}
	return q
}
