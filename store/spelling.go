package store

import (
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// spelling is how one engine writes the store's SQL. Queries are written
// once, with ? placeholders and with FOR UPDATE where a transition locks the
// row it re-checks; each engine's spelling turns them into what it accepts.
// Everything else the two engines share (RETURNING, ON CONFLICT, row-value
// comparisons, CAST … AS BIGINT) is written as is.
type spelling struct {
	engine Engine
	cache  sync.Map // query → spelled query
}

// Engine names a database engine under the store.
type Engine string

const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// spell returns q as the engine writes it, computed once per query text.
func (sp *spelling) spell(q string) string {
	if v, ok := sp.cache.Load(q); ok {
		return v.(string)
	}
	var out string
	switch sp.engine {
	case Postgres:
		out = numberPlaceholders(q)
	default:
		// One SQLite writer connection already serializes every write
		// transaction (BEGIN IMMEDIATE), so the row lock is implied.
		out = strings.ReplaceAll(q, " FOR UPDATE", "")
	}
	sp.cache.Store(q, out)
	return out
}

// numberPlaceholders turns ? into $1, $2, … outside quoted text.
func numberPlaceholders(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	quoted := false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			quoted = !quoted
		case c == '?' && !quoted:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// contains is the engine's test that needle (a parameter) occurs in col.
func (sp *spelling) contains(col string) string {
	if sp.engine == Postgres {
		return "strpos(" + col + ", ?) > 0"
	}
	return "instr(" + col + ", ?) > 0"
}

// args adapts query arguments to the engine. PostgreSQL's text refuses NUL
// bytes and invalid UTF-8, which SQLite stores as given; the only text that
// can carry them is what paydesk derived from untrusted input (an error
// quoting a malformed body, a sender's address), never the raw body, which
// is bytea. Such a string is stored with the offending bytes replaced, so
// the raw request is still saved rather than refused.
func (sp *spelling) args(args []any) []any {
	if sp.engine != Postgres {
		return args
	}
	for i, a := range args {
		if s, ok := a.(string); ok && !pgText(s) {
			args[i] = pgSafe(s)
		}
	}
	return args
}

// pgText reports whether PostgreSQL takes s as text as it is.
func pgText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// pgSafe replaces what PostgreSQL's text refuses (NUL, bytes that are not
// UTF-8) with U+FFFD.
func pgSafe(s string) string {
	return strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", "\uFFFD"), "\uFFFD")
}
