package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/paydesk/paydesk/internal/dbtest"
)

func TestPostgresMigratesOnceAndRefusesANewerSchema(t *testing.T) {
	dsn := dbtest.EmptyPostgresDB(t)
	// Several serve processes starting together: one migrates, the others
	// wait for it and find the schema current.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(dsn)
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v, rows int
	if err := db.QueryRow(`SELECT max(version), count(*) FROM paydesk_schema`).Scan(&v, &rows); err != nil || v != SchemaVersion() || rows != 1 {
		t.Fatalf("paydesk_schema = %d (%d rows), %v; want %d", v, rows, err, SchemaVersion())
	}
	if _, err := db.Exec(`UPDATE paydesk_schema SET version = version + 1`); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dsn); !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("opening a newer schema: %v, want ErrNewerSchema", err)
	}
}

// TestMigrationsArePairedAcrossEngines: each SQLite migration has its
// PostgreSQL twin under the same number and topic, so a branch that adds
// one to a single engine fails here, and `store copy` always finds both
// databases at the same version.
func TestMigrationsArePairedAcrossEngines(t *testing.T) {
	lite, err := migrations(SQLite)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := migrations(Postgres)
	if err != nil {
		t.Fatal(err)
	}
	names := func(ms []migration) string {
		var b strings.Builder
		for _, m := range ms {
			b.WriteString(m.name + "\n")
		}
		return b.String()
	}
	if names(lite) != names(pg) {
		t.Fatalf("migrations differ:\nsqlite:\n%s\npostgres (migrations_postgres):\n%s", names(lite), names(pg))
	}
}
func TestPostgresSchemaHasTheSQLiteColumns(t *testing.T) {
	lite := openTemp(t)
	pg := openDSN(t, dbtest.PostgresDB(t))
	ctx := context.Background()
	for _, table := range copyTables {
		a, err := columnsOf(ctx, lite, table.name)
		if err != nil {
			t.Fatal(err)
		}
		b, err := columnsOf(ctx, pg, table.name)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(a, ",") != strings.Join(b, ",") {
			t.Errorf("%s: sqlite has %v, postgres %v", table.name, a, b)
		}
	}
}

// TestEveryTableIsCopiedOrLeftOnPurpose: a table a migration adds is either
// copied by `store copy` or named, with its reason, in copySkipped.
func TestEveryTableIsCopiedOrLeftOnPurpose(t *testing.T) {
	s := openTemp(t)
	known := map[string]bool{}
	for _, c := range copyTables {
		known[c.name] = true
	}
	for name := range copySkipped {
		known[name] = true
	}
	err := eachRow(context.Background(), s.r, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`, func(rows *sql.Rows) error {
		var name string
		err := rows.Scan(&name)
		if !known[name] {
			t.Errorf("table %s is neither in copyTables nor in copySkipped (store/copy.go)", name)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// storeAtSchema makes an SQLite store file with the first version
// migrations of today's list and the rows stmts insert, stamped with that
// version: a store as an older paydesk left it.
func storeAtSchema(t *testing.T, version int, stmts ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), fmt.Sprintf("v%d.db", version))
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ms, err := migrations(SQLite)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[:version] {
		if _, err := db.Exec(m.sql); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
	}
	for _, q := range append(stmts, fmt.Sprintf("PRAGMA user_version = %d", version)) {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return path
}
