package testkit

import (
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"

	_ "modernc.org/sqlite" // read the store file as SQLite sees it
)

// StoreDump is every row of every table of the SQLite store at path, with
// each value's bytes, in a stable order; tables named in except are left
// out (the audit log, which a refusal must grow by one row). Two dumps are
// equal exactly when no stored value changed. The store must be closed
// (or checkpointed): the dump opens the file read-only.
func StoreDump(t testing.TB, path string, except ...string) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var b strings.Builder
	var version int
	if err := db.QueryRow("PRAGMA user_version").Scan(&version); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "user_version %d\n", version)
	rows, err := db.Query(`SELECT type, name, coalesce(sql, '') FROM sqlite_master ORDER BY type, name`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var typ, name, def string
		if err := rows.Scan(&typ, &name, &def); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %s: %s\n", typ, name, def)
		if typ == "table" && !slices.Contains(except, name) {
			tables = append(tables, name)
		}
	}
	rows.Close()
	for _, table := range tables {
		fmt.Fprintf(&b, "== %s\n", table)
		head, err := db.Query(`SELECT * FROM "` + table + `" LIMIT 0`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := head.Columns()
		head.Close()
		order := make([]string, len(cols))
		for i := range cols {
			order[i] = fmt.Sprint(i + 1)
		}
		rows, err := db.Query(`SELECT * FROM "` + table + `" ORDER BY ` + strings.Join(order, ", "))
		if err != nil {
			t.Fatal(err)
		}
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				fmt.Fprintf(&b, "%s=%T:%x ", cols[i], v, fmt.Sprint(v))
			}
			b.WriteByte('\n')
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	return b.String()
}
