// Package dbtest gives tests a fresh database on each engine the store runs
// on: an SQLite file in the test's temp folder, and a database on a real
// PostgreSQL server that the test package starts for itself (initdb into a
// temp folder, a unix socket in it, no TCP port), one server per package and
// a fresh database per test. Where PostgreSQL is not installed the
// PostgreSQL half of each test is skipped with a message saying so.
//
// A package opts in from its TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(dbtest.Run(m, migrate)) }
//
// where migrate opens the store once on a URL (dbtest cannot import store:
// the store's own tests use it), and a test runs on both engines with
//
//	dbtest.Engines(t, func(t *testing.T, dsn string) { … store.Open(dsn) … })
package dbtest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// Engine names, as the subtests are named.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

var (
	prepare func(dsn string) error

	startOnce sync.Once
	server    *Server
	startErr  error
	template  string // the migrated database each test's is copied from
	reset     string // empties a copy of the template again (see seedTemplate)
	seq       atomic.Int64

	freeMu sync.Mutex
	free   []string // emptied databases, ready for the next test
)

// Run runs a package's tests and stops its PostgreSQL server, if a test
// started one. prepare migrates an empty database (it runs once, on the
// template every test database is copied from).
func Run(m *testing.M, migrate func(dsn string) error) int {
	prepare = migrate
	code := m.Run()
	if server != nil {
		server.Stop()
	}
	return code
}

// Engines runs f as two subtests, "sqlite" and "postgres", each with the
// DSN of a fresh database of that engine (store.Open accepts both).
func Engines(t *testing.T, f func(t *testing.T, dsn string)) {
	t.Helper()
	t.Run(SQLite, func(t *testing.T) { f(t, SQLiteFile(t)) })
	t.Run(Postgres, func(t *testing.T) { f(t, PostgresDB(t)) })
}

// SQLiteFile is the path of a fresh SQLite file in the test's temp folder.
func SQLiteFile(t testing.TB) string {
	return filepath.Join(t.TempDir(), "paydesk.db")
}

// PostgresDB returns the URL of a fresh database, migrated to the current
// schema and holding nothing the migrations did not put there. The test is
// skipped when PostgreSQL cannot be started here.
//
// Copying the template costs about 250 ms on a 2-core machine, emptying a
// used copy about a tenth of that: when the test ends its database is
// emptied (every table truncated, identities restarted, the migrations'
// own rows put back) and handed to the next test.
func PostgresDB(t testing.TB) string {
	t.Helper()
	admin := adminURL(t)
	if template == "" {
		t.Fatal("dbtest: the package's TestMain must call dbtest.Run(m, migrate)")
	}
	freeMu.Lock()
	var name string
	if n := len(free); n > 0 {
		name, free = free[n-1], free[:n-1]
	}
	freeMu.Unlock()
	if name == "" {
		name = fmt.Sprintf("t%d_%d", os.Getpid(), seq.Add(1))
		if err := execSQL(admin, "CREATE DATABASE "+name+" TEMPLATE "+template); err != nil {
			t.Fatalf("create test database: %v", err)
		}
	}
	t.Cleanup(func() {
		// Sessions a test left open (a killed process's, a store not
		// closed) must not see the next test's data.
		err := execSQL(admin, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '`+name+`'`)
		if err == nil {
			err = execSQL(server.URL(name), reset)
		}
		if err != nil {
			_ = execSQL(admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			return
		}
		freeMu.Lock()
		free = append(free, name)
		freeMu.Unlock()
	})
	return server.URL(name)
}

// EmptyPostgresDB is PostgresDB without the schema: for tests of migrating.
func EmptyPostgresDB(t testing.TB) string {
	t.Helper()
	return createEmptyDB(t, adminURL(t), "TEMPLATE template0")
}

// adminURL starts the package's server on first use.
func adminURL(t testing.TB) string {
	t.Helper()
	startOnce.Do(func() {
		if u := os.Getenv("PAYDESK_TEST_POSTGRES"); u != "" {
			server = &Server{url: u}
		} else {
			server, startErr = Start()
		}
		if startErr != nil || prepare == nil {
			return
		}
		name := fmt.Sprintf("paydesk_template_%d", os.Getpid())
		if startErr = execSQL(server.URL("postgres"), "CREATE DATABASE "+name); startErr != nil {
			return
		}
		if startErr = prepare(server.URL(name)); startErr != nil {
			return
		}
		if reset, startErr = seedTemplate(server.URL(name)); startErr == nil {
			template = name
		}
	})
	if startErr != nil {
		if server == nil || server.url == "" {
			t.Skipf("PostgreSQL is not available here, so the PostgreSQL half of this test is skipped: %v", startErr)
		}
		t.Fatalf("PostgreSQL test server: %v", startErr)
	}
	return server.URL("postgres")
}

func createEmptyDB(t testing.TB, admin, from string) string {
	t.Helper()
	name := fmt.Sprintf("t%d_%d", os.Getpid(), seq.Add(1))
	if err := execSQL(admin, "CREATE DATABASE "+name+" "+from); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		// WITH (FORCE): a connection a failed test left open must not keep
		// the database (and its disk) for the rest of the package.
		_ = execSQL(admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return server.URL(name)
}

// seedTemplate keeps, inside the template, a copy of each table the
// migrations put rows in (schema dbtest_seed), and returns the SQL that
// brings a used copy of the template back to its state: every table of the
// public schema truncated with its identity restarted, then the seeded rows
// put back.
func seedTemplate(dsn string) (string, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return "", err
	}
	defer db.Close()
	ctx := context.Background()
	rows, err := db.QueryContext(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`)
	if err != nil {
		return "", err
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return "", err
		}
		tables = append(tables, name)
	}
	rows.Close()
	if len(tables) == 0 {
		return "", fmt.Errorf("dbtest: the migrated template has no tables")
	}
	var restore strings.Builder
	if _, err := db.ExecContext(ctx, `CREATE SCHEMA dbtest_seed`); err != nil {
		return "", err
	}
	for _, name := range tables {
		var seeded bool
		if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM public.`+name+`)`).Scan(&seeded); err != nil {
			return "", err
		}
		if !seeded {
			continue
		}
		if _, err := db.ExecContext(ctx, `CREATE TABLE dbtest_seed.`+name+` AS TABLE public.`+name); err != nil {
			return "", err
		}
		fmt.Fprintf(&restore, "INSERT INTO public.%s SELECT * FROM dbtest_seed.%s;\n", name, name)
	}
	rows, err = db.QueryContext(ctx, `SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'`)
	if err != nil {
		return "", err
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return "", err
		}
		fmt.Fprintf(&restore, "ALTER SEQUENCE public.%s RESTART;\n", name)
	}
	rows.Close()
	// DELETE, not TRUNCATE: a test leaves a few rows, and TRUNCATE makes
	// new files for every table and index (ten times slower here). Foreign
	// keys are not checked while emptying (replica role), so the order of
	// the tables does not matter.
	var b strings.Builder
	b.WriteString("SET session_replication_role = replica;\n")
	for _, name := range tables {
		fmt.Fprintf(&b, "DELETE FROM public.%s;\n", name)
	}
	b.WriteString(restore.String())
	b.WriteString("SET session_replication_role = DEFAULT;\n")
	return b.String(), nil
}

// execSQL runs one statement on a short-lived connection.
func execSQL(dsn, stmt string) error {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(context.Background(), stmt)
	return err
}

// withDatabase replaces the database name of a URL.
func withDatabase(base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	u.Path = "/" + name
	return u.String()
}
