package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Copying a workspace from SQLite to PostgreSQL.
//
// Every row of every table keeps its id, so what refers to it by id
// (attempts to notifications, findings to runs, runs to bills) still does.
// Each table is copied in id order, a chunk per transaction: an interrupted
// copy leaves, in each table, exactly the rows up to some id, and running it
// again copies what is above. Kept bills are not copied: their rows keep the
// paths they had (README, "What is backed up where").

// copyTable is a table `store copy` moves, in an order that satisfies the
// foreign keys.
type copyTable struct {
	name string
	// sums are the money columns whose totals must agree at the end.
	sums []string
	// later are columns copied as NULL and set once the whole table is
	// there: they refer to rows of the same table with higher ids.
	later []string
}

var copyTables = []copyTable{
	{name: "orders", sums: []string{"amount", "refunded"}},
	{name: "duplicate_payments", sums: []string{"amount", "refunded"}},
	{name: "notifications", sums: []string{"amount"}},
	{name: "notification_attempts"},
	{name: "trade_queries", sums: []string{"amount"}},
	{name: "refunds", sums: []string{"amount"}},
	{name: "audit"},
	{name: "bills", sums: []string{"size"}},
	{name: "recon_runs", sums: []string{"fees", "net"}, later: []string{"superseded_by"}},
	{name: "findings", sums: []string{"local_amount", "platform_amount"}},
}

// copySkipped are the tables `store copy` leaves behind, and why: every
// other table must be in copyTables (a test checks it, so a table a later
// migration adds is not forgotten).
var copySkipped = map[string]string{
	"order_counts":          "counted again from the copied orders",
	"notification_overflow": "per-minute counts of unverified callbacks over their sender's cap: rate limiting, not records",
	"paydesk_schema":        "PostgreSQL's own schema version",
}

// copyChunk is how many rows one transaction of the copy carries (a
// variable for the tests of resuming).
var copyChunk = 20000

// CopyProgress reports a table's progress.
type CopyProgress struct {
	Table  string `json:"table"`
	Copied int64  `json:"copied"` // rows in the destination
	Total  int64  `json:"total"`  // rows in the source
	// AlreadyThere: rows a previous, interrupted copy had moved.
	AlreadyThere int64 `json:"already_there"`
	// SanitizedTexts: text values PostgreSQL would refuse as they were
	// (see spelling.args), stored with the bad bytes replaced.
	SanitizedTexts int64 `json:"sanitized_texts"`
}

// CopyReport is what a finished copy verified, table by table.
type CopyReport struct {
	Tables []CopyProgress `json:"tables"`
	// Sums are the money totals, "table.column" → fen, equal on both
	// sides.
	Sums map[string]int64 `json:"sums"`
}

// ErrCopyTarget refuses a destination that holds data other than an
// earlier, interrupted copy of the same source.
var ErrCopyTarget = errors.New("the destination holds other data")

// CopyTo copies everything this SQLite store holds into dst, an empty (or
// partly copied) PostgreSQL store, then verifies that every table has the
// same number of rows and the same money totals on both sides. Nothing may
// write to either store meanwhile: stop `serve` and cron on the SQLite
// workspace first, and start them on PostgreSQL after.
func (s *Store) CopyTo(ctx context.Context, dst *Store, progress func(CopyProgress)) (CopyReport, error) {
	if s.engine != SQLite || dst.engine != Postgres {
		return CopyReport{}, fmt.Errorf("store copy goes from SQLite to PostgreSQL, not from %s to %s", s.engine, dst.engine)
	}
	if progress == nil {
		progress = func(CopyProgress) {}
	}
	// Every table is checked before anything is written, so a refused
	// destination is left exactly as it was.
	plans := make([]*tablePlan, len(copyTables))
	for i, t := range copyTables {
		p, err := s.planCopy(ctx, dst, t)
		if err != nil {
			return CopyReport{}, fmt.Errorf("copy %s: %w", t.name, err)
		}
		plans[i] = p
	}
	var rep CopyReport
	for _, p := range plans {
		if err := s.copyTableTo(ctx, dst, p, progress); err != nil {
			return rep, fmt.Errorf("copy %s: %w", p.name, err)
		}
		rep.Tables = append(rep.Tables, p.progress)
	}
	if err := dst.afterCopy(ctx); err != nil {
		return rep, err
	}
	sums, err := verifyCopy(ctx, s, dst)
	rep.Sums = sums
	return rep, err
}

// tablePlan is where the copy of one table starts.
type tablePlan struct {
	copyTable
	cols     []string
	types    map[string]string // PostgreSQL column → type
	lastID   int64             // the highest id already in the destination
	progress CopyProgress
}

// planCopy finds where the copy of a table resumes: the destination must
// hold exactly the source's rows up to its highest id (an interrupted copy
// of this source), or nothing.
func (s *Store) planCopy(ctx context.Context, dst *Store, t copyTable) (*tablePlan, error) {
	p := &tablePlan{copyTable: t, progress: CopyProgress{Table: t.name}}
	var err error
	if p.cols, err = columnsOf(ctx, s, t.name); err != nil {
		return nil, err
	}
	if p.types, err = postgresTypes(ctx, dst, t.name); err != nil {
		return nil, err
	}
	for _, c := range p.cols {
		if p.types[c] == "" {
			return nil, fmt.Errorf("column %s is not in the PostgreSQL table: are both at schema version %d?", c, SchemaVersion())
		}
	}
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM `+t.name).Scan(&p.progress.Total); err != nil {
		return nil, err
	}
	if err := dst.r.QueryRowContext(ctx, `SELECT coalesce(max(id), 0), count(*) FROM `+t.name).Scan(&p.lastID, &p.progress.AlreadyThere); err != nil {
		return nil, err
	}
	p.progress.Copied = p.progress.AlreadyThere
	if p.lastID == 0 {
		return p, nil
	}
	var below int64
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM `+t.name+` WHERE id <= ?`, p.lastID).Scan(&below); err != nil {
		return nil, err
	}
	same := below == p.progress.AlreadyThere
	if same {
		// The same count could be other rows: the last one must be the
		// source's, column by column.
		if same, err = s.sameRow(ctx, dst, p); err != nil {
			return nil, err
		}
	}
	if !same {
		return nil, fmt.Errorf("%w: %s holds %d rows up to id %d that are not the source's: copy into a new, empty database",
			ErrCopyTarget, t.name, p.progress.AlreadyThere, p.lastID)
	}
	return p, nil
}

// sameRow reports whether the destination's row at the plan's last id is
// the source's row of that id.
func (s *Store) sameRow(ctx context.Context, dst *Store, p *tablePlan) (bool, error) {
	q := `SELECT ` + strings.Join(p.cols, ", ") + ` FROM ` + p.name + ` WHERE id = ?`
	read := func(st *Store) ([]any, error) {
		vals := make([]any, len(p.cols))
		ptrs := make([]any, len(p.cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		err := st.r.QueryRowContext(ctx, q, p.lastID).Scan(ptrs...)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		return vals, err
	}
	a, err := read(s)
	if err != nil || a == nil {
		return false, err
	}
	b, err := read(dst)
	if err != nil {
		return false, err
	}
	for i, c := range p.cols {
		if slices.Contains(p.later, c) {
			continue
		}
		v, _, err := forPostgres(a[i], p.types[c])
		if err != nil {
			return false, err
		}
		if fmt.Sprintf("%v", asText(v)) != fmt.Sprintf("%v", asText(b[i])) {
			return false, nil
		}
	}
	return true, nil
}

// asText shows bytes as text, so a value compares the same whichever of
// the two a driver returned.
func asText(v any) any {
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return v
}

// copyTableTo copies the rows above the plan's last id.
func (s *Store) copyTableTo(ctx context.Context, dst *Store, p *tablePlan, progress func(CopyProgress)) error {
	progress(p.progress)
	later := map[string]bool{}
	for _, c := range p.later {
		later[c] = true
	}
	lastID := p.lastID
	for {
		rows, n, err := s.readChunk(ctx, p.name, p.cols, lastID, p.types, later, &p.progress.SanitizedTexts)
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		if err := dst.copyRows(ctx, p.name, p.cols, rows); err != nil {
			return err
		}
		lastID = rows[n-1][0].(int64)
		p.progress.Copied += int64(n)
		progress(p.progress)
	}
	for _, c := range p.later {
		if err := s.copyLaterColumn(ctx, dst, p.name, c); err != nil {
			return err
		}
	}
	return nil
}

// columnsOf lists a table's columns, id first, as the store's engine has
// them.
func columnsOf(ctx context.Context, s *Store, table string) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT * FROM `+table+` WHERE 1 = 0`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	if len(cols) == 0 || cols[0] != "id" {
		return nil, fmt.Errorf("%s: the first column is not id", table)
	}
	return cols, nil
}

// postgresTypes maps a PostgreSQL table's columns to their types.
func postgresTypes(ctx context.Context, s *Store, table string) (map[string]string, error) {
	out := map[string]string{}
	err := eachRow(ctx, s.r, `SELECT column_name, data_type FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = ?`, func(rows *sql.Rows) error {
		var name, typ string
		err := rows.Scan(&name, &typ)
		out[name] = typ
		return err
	}, table)
	return out, err
}

// readChunk reads up to copyChunk rows above lastID, each value made what
// the PostgreSQL column takes.
func (s *Store) readChunk(ctx context.Context, table string, cols []string, lastID int64, types map[string]string,
	later map[string]bool, sanitized *int64) ([][]any, int, error) {
	var out [][]any
	err := eachRow(ctx, s.r, `SELECT `+strings.Join(cols, ", ")+` FROM `+table+` WHERE id > ? ORDER BY id LIMIT ?`,
		func(rows *sql.Rows) error {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			for i, c := range cols {
				v, changed, err := forPostgres(vals[i], types[c])
				if err != nil {
					return fmt.Errorf("row id %v, column %s: %w", vals[0], c, err)
				}
				if changed {
					*sanitized++
				}
				if later[c] {
					v = nil
				}
				vals[i] = v
			}
			out = append(out, vals)
			return nil
		}, lastID, copyChunk)
	return out, len(out), err
}

// forPostgres converts a value read from SQLite to what a PostgreSQL
// column of type typ takes; changed reports text that had to be made valid
// UTF-8 without NUL bytes.
func forPostgres(v any, typ string) (out any, changed bool, err error) {
	switch typ {
	case "bytea":
		if s, ok := v.(string); ok {
			return []byte(s), false, nil
		}
		return v, false, nil
	case "text":
		var s string
		switch x := v.(type) {
		case nil:
			return nil, false, nil
		case string:
			s = x
		case []byte:
			s = string(x)
		default:
			return nil, false, fmt.Errorf("a %T where text belongs", v)
		}
		if !pgText(s) {
			return pgSafe(s), true, nil
		}
		return s, false, nil
	case "bigint", "integer", "smallint":
		switch x := v.(type) {
		case nil, int64:
			return v, false, nil
		case bool:
			if x {
				return int64(1), false, nil
			}
			return int64(0), false, nil
		}
		return nil, false, fmt.Errorf("a %T where an integer belongs", v)
	}
	return v, false, nil
}

// copyRows writes one chunk in one transaction with PostgreSQL's COPY.
func (s *Store) copyRows(ctx context.Context, table string, cols []string, rows [][]any) error {
	conn, err := s.w.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		c := dc.(*stdlib.Conn).Conn()
		tx, err := c.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows)); err != nil {
			return err
		}
		return tx.Commit(ctx)
	})
}

// copyLaterColumn sets a column that was copied as NULL from the source.
func (s *Store) copyLaterColumn(ctx context.Context, dst *Store, table, col string) error {
	type pair struct{ id, v int64 }
	pairs, err := collect(ctx, s.r, `SELECT id, `+col+` FROM `+table+` WHERE `+col+` IS NOT NULL ORDER BY id`, func(r rowScanner) (pair, error) {
		var p pair
		err := r.Scan(&p.id, &p.v)
		return p, err
	})
	if err != nil {
		return err
	}
	return dst.txAlone(ctx, func(tx *Tx) error {
		for _, p := range pairs {
			if _, err := tx.ExecContext(ctx, `UPDATE `+table+` SET `+col+` = ? WHERE id = ?`, p.v, p.id); err != nil {
				return err
			}
		}
		return nil
	})
}

// afterCopy makes the PostgreSQL store go on from the copied rows: each
// identity continues above the highest copied id, and the order counts are
// counted from the orders (an import counts them; a copy inserts rows
// behind the importer's back).
func (s *Store) afterCopy(ctx context.Context) error {
	return s.txAlone(ctx, func(tx *Tx) error {
		for _, t := range copyTables {
			if _, err := tx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('`+t.name+`', 'id'), coalesce(max(id), 0) + 1, false) FROM `+t.name); err != nil {
				return fmt.Errorf("identity of %s: %w", t.name, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE order_counts SET n = 0`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE order_counts c SET n = x.n FROM (SELECT channel, status, count(*) AS n FROM orders GROUP BY channel, status) x
			WHERE c.channel = x.channel AND c.status = x.status AND c.shard = 0`)
		return err
	})
}

// verifyCopy compares each table's row count and money totals on both
// sides, and the order counts with the orders.
func verifyCopy(ctx context.Context, src, dst *Store) (map[string]int64, error) {
	sums := map[string]int64{}
	var errs []error
	for _, t := range copyTables {
		q := `SELECT count(*)`
		for _, c := range t.sums {
			q += `, CAST(coalesce(sum(` + c + `), 0) AS BIGINT)`
		}
		q += ` FROM ` + t.name
		a, err := figures(ctx, src, q, len(t.sums)+1)
		if err != nil {
			return sums, err
		}
		b, err := figures(ctx, dst, q, len(t.sums)+1)
		if err != nil {
			return sums, err
		}
		if a[0] != b[0] {
			errs = append(errs, fmt.Errorf("%s: %d rows in SQLite, %d in PostgreSQL", t.name, a[0], b[0]))
		}
		for i, c := range t.sums {
			if a[i+1] != b[i+1] {
				errs = append(errs, fmt.Errorf("%s.%s: totals %d in SQLite, %d in PostgreSQL", t.name, c, a[i+1], b[i+1]))
			}
			sums[t.name+"."+c] = b[i+1]
		}
	}
	for _, st := range OrderStatuses {
		a, errA := src.CountOrders(ctx, OrderFilter{Status: st})
		b, errB := dst.CountOrders(ctx, OrderFilter{Status: st})
		if err := errors.Join(errA, errB); err != nil {
			return sums, err
		}
		if a != b {
			errs = append(errs, fmt.Errorf("orders %s: %d in SQLite, %d in PostgreSQL", st, a, b))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return sums, fmt.Errorf("the copy does not match its source: %w", err)
	}
	return sums, nil
}

func figures(ctx context.Context, s *Store, q string, n int) ([]int64, error) {
	out := make([]int64, n)
	ptrs := make([]any, n)
	for i := range out {
		ptrs[i] = &out[i]
	}
	return out, s.r.QueryRowContext(ctx, q).Scan(ptrs...)
}
