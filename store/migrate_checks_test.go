package store

import (
	"context"
	"database/sql"
	"strings"
	"testing"
)

// TestChecksWithoutListsKeepRowsAndRefusals: migration 0012 edits the CHECK
// text of three tables in place (writable_schema). A database made at
// schema 11 with rows in each table must come out intact (integrity_check),
// still refuse every value the lists refused, read the day's orders through
// the indexes made for it, and its callback statements must no longer
// build a temporary table per statement, the cost the migration exists to
// remove.
func TestChecksWithoutListsKeepRowsAndRefusals(t *testing.T) {
	ms, err := migrations(SQLite)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) < 12 || !strings.Contains(ms[11].name, "checks_without_lists") {
		t.Fatalf("migration 12 is %q", ms[11].name)
	}
	path := storeAtSchema(t, 11,
		`INSERT INTO orders (out_trade_no, channel, amount, status, trade_no, refunded, created_at, updated_at) VALUES ('CK1', 'wechat', 1000, 'PAID', 'W1', 0, 1, 1)`,
		`INSERT INTO orders (out_trade_no, channel, amount, status, refunded, created_at, updated_at) VALUES ('CK2', 'alipay', 500, 'PENDING', 0, 1, 1)`,
		`INSERT INTO orders (out_trade_no, channel, amount, status, trade_no, refunded, created_at, updated_at) VALUES ('CK3', 'alipay', 700, 'PAID', 'A3', 0, 1, 1)`,
		`INSERT INTO refunds (out_request_no, out_trade_no, channel, amount, reason, status, created_at, updated_at) VALUES ('RFCK1', 'CK1', 'wechat', 250, 'kept', 'PENDING', 1, 1)`,
		`INSERT INTO notifications (channel, received_at, remote_addr, headers, body, body_size, verify_status) VALUES ('wechat', 1, '127.0.0.1', '{}', '{}', 2, 'VERIFIED')`,
	)
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	var ok string
	if err := s.w.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check: %q %v", ok, err)
	}
	if o, err := s.GetOrder(ctx, "CK1"); err != nil || o.Amount != 1000 || o.TradeNo != "W1" {
		t.Fatalf("order after migrating: %+v %v", o, err)
	}
	for _, bad := range []string{
		`UPDATE orders SET status = 'SETTLED' WHERE out_trade_no = 'CK2'`,
		`UPDATE orders SET paid_via = 'guess' WHERE out_trade_no = 'CK2'`,
		`UPDATE refunds SET status = 'DONE' WHERE out_request_no = 'RFCK1'`,
		`UPDATE notifications SET verify_status = 'MAYBE'`,
	} {
		if _, err := s.w.ExecContext(ctx, bad); err == nil || !strings.Contains(err.Error(), "CHECK") {
			t.Errorf("%s: want a CHECK refusal, got %v", bad, err)
		}
	}
	for _, good := range []string{
		`UPDATE orders SET status = 'CLOSED' WHERE out_trade_no = 'CK2'`,
		`UPDATE refunds SET status = 'ABNORMAL' WHERE out_request_no = 'RFCK1'`,
		`UPDATE notifications SET verify_status = 'REJECTED'`,
	} {
		if _, err := s.w.ExecContext(ctx, good); err != nil {
			t.Errorf("%s: %v", good, err)
		}
	}
	if got := queryPlan(t, s.w.db, unpaidTimeSQLite, "alipay", 0, 10); !strings.Contains(got, "INDEX orders_paid_untimed") {
		t.Errorf("the day's untimed paid orders are read by %q, not the partial index", got)
	}
	if got := queryPlan(t, s.w.db, byPaidSQLite, "alipay", 0, 10); !strings.Contains(got, "COVERING INDEX orders_by_channel_paid") {
		t.Errorf("the day's paid orders are read by %q, not the covering index", got)
	}
	for _, q := range append(append([]string{}, hotWrites...), `UPDATE refunds SET status = 'SUCCESS' WHERE id = 1`) {
		if strings.HasPrefix(strings.TrimSpace(q), "SELECT") {
			continue // the lock is PostgreSQL's; reads check nothing
		}
		if n := ephemeralTables(t, s.w.db, q); n != 0 {
			t.Errorf("%s builds %d temporary tables per run", strings.Join(strings.Fields(q)[:3], " "), n)
		}
	}
}

// ephemeralTables counts the OpenEphemeral steps of a statement's program.
func ephemeralTables(t *testing.T, db *sql.DB, q string) int {
	t.Helper()
	rows, err := db.Query("EXPLAIN "+q, make([]any, strings.Count(q, "?"))...)
	if err != nil {
		t.Fatalf("EXPLAIN %s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	n := 0
	for rows.Next() {
		v := make([]any, len(cols))
		p := make([]any, len(cols))
		for i := range v {
			p[i] = &v[i]
		}
		if err := rows.Scan(p...); err != nil {
			t.Fatal(err)
		}
		if op, _ := v[1].(string); op == "OpenEphemeral" {
			n++
		}
	}
	return n
}

// queryPlan is EXPLAIN QUERY PLAN's details of q, joined.
func queryPlan(t *testing.T, db *sql.DB, q string, args ...any) string {
	t.Helper()
	rows, err := db.Query("EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatalf("EXPLAIN QUERY PLAN %s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		out = append(out, detail)
	}
	return strings.Join(out, "; ")
}
