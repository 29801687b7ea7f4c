package store

import (
	"errors"
	"fmt"
	"unsafe"

	"modernc.org/libc"
	"modernc.org/libc/sys/types"
	sqlite3 "modernc.org/sqlite/lib"
)

// The store's bulk paths on SQLite (the day's orders for reconciliation, an
// order import) run beneath database/sql, on connections of their own
// driven through modernc.org/sqlite's C API (modernc.org/sqlite/lib, the
// same pure-Go SQLite the driver wraps). database/sql hands every value of
// every row over as an interface and the driver copies every text column
// into a fresh string, locking the connection's mutex for each column:
// three quarters of the time a million-row read took (bench/README.md,
// "Reconciliation"). Here a row's columns are read in place and copied once,
// into the caller's own memory, and the connection is opened without a
// mutex because one goroutine owns it.

// rawConn is one SQLite connection used by one goroutine at a time.
type rawConn struct {
	tls *libc.TLS
	db  uintptr
}

// rawError is an SQLite error of a raw connection, with its extended
// result code.
type rawError struct {
	code int
	msg  string
}

func (e *rawError) Error() string { return e.msg }

// Code is the extended result code (sqlite3.SQLITE_CONSTRAINT_UNIQUE, …).
func (e *rawError) Code() int { return e.code }

// openRaw opens path for reading (query_only) or writing, with the
// store's busy timeout.
func openRaw(path string, write bool) (*rawConn, error) {
	c := &rawConn{tls: libc.NewTLS()}
	name, err := libc.CString(path)
	if err != nil {
		c.tls.Close()
		return nil, err
	}
	defer libc.Xfree(c.tls, name)
	pdb := c.tls.Alloc(int(unsafe.Sizeof(uintptr(0))))
	defer c.tls.Free(int(unsafe.Sizeof(uintptr(0))))
	flags := int32(sqlite3.SQLITE_OPEN_READWRITE | sqlite3.SQLITE_OPEN_NOMUTEX)
	rc := sqlite3.Xsqlite3_open_v2(c.tls, name, pdb, flags, 0)
	c.db = readPtr(pdb)
	if rc != sqlite3.SQLITE_OK {
		err := c.err(rc)
		c.close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	sqlite3.Xsqlite3_extended_result_codes(c.tls, c.db, 1)
	sqlite3.Xsqlite3_busy_timeout(c.tls, c.db, busyTimeoutMS)
	if !write {
		if err := c.exec("PRAGMA query_only = 1"); err != nil {
			c.close()
			return nil, err
		}
	}
	return c, nil
}

func (c *rawConn) close() {
	if c.db != 0 {
		sqlite3.Xsqlite3_close_v2(c.tls, c.db)
		c.db = 0
	}
	if c.tls != nil {
		c.tls.Close()
		c.tls = nil
	}
}

// err describes the connection's last error, rc being the call's result.
func (c *rawConn) err(rc int32) error {
	code := int(rc)
	msg := libc.GoString(sqlite3.Xsqlite3_errstr(c.tls, rc))
	if c.db != 0 {
		if ext := sqlite3.Xsqlite3_extended_errcode(c.tls, c.db); ext&0xff == rc&0xff {
			code = int(ext)
		}
		if m := libc.GoString(sqlite3.Xsqlite3_errmsg(c.tls, c.db)); m != msg {
			msg += ": " + m
		}
	}
	return &rawError{code: code, msg: fmt.Sprintf("%s (%d)", msg, code)}
}

// exec runs statements that return no rows.
func (c *rawConn) exec(sql string) error {
	q, err := libc.CString(sql)
	if err != nil {
		return err
	}
	defer libc.Xfree(c.tls, q)
	if rc := sqlite3.Xsqlite3_exec(c.tls, c.db, q, 0, 0, 0); rc != sqlite3.SQLITE_OK {
		return c.err(rc)
	}
	return nil
}

// readPtr reads a pointer that SQLite wrote to C memory at p.
func readPtr(p uintptr) uintptr {
	b := libc.GoBytes(p, int(unsafe.Sizeof(uintptr(0))))
	return *(*uintptr)(unsafe.Pointer(&b[0]))
}

// rawStmt is a prepared statement of a rawConn.
type rawStmt struct {
	c *rawConn
	p uintptr
	// text holds the bytes bound with bindText, in SQLite's memory, until
	// the statement is reset.
	bound cArena
}

func (c *rawConn) prepare(sql string) (*rawStmt, error) {
	q, err := libc.CString(sql)
	if err != nil {
		return nil, err
	}
	defer libc.Xfree(c.tls, q)
	pst := c.tls.Alloc(int(unsafe.Sizeof(uintptr(0))))
	defer c.tls.Free(int(unsafe.Sizeof(uintptr(0))))
	if rc := sqlite3.Xsqlite3_prepare_v2(c.tls, c.db, q, -1, pst, 0); rc != sqlite3.SQLITE_OK {
		return nil, fmt.Errorf("prepare %q: %w", sql, c.err(rc))
	}
	return &rawStmt{c: c, p: readPtr(pst)}, nil
}

func (s *rawStmt) bindInt64(i int, v int64) error {
	if rc := sqlite3.Xsqlite3_bind_int64(s.c.tls, s.p, int32(i), v); rc != sqlite3.SQLITE_OK {
		return s.c.err(rc)
	}
	return nil
}

func (s *rawStmt) bindNull(i int) error {
	if rc := sqlite3.Xsqlite3_bind_null(s.c.tls, s.p, int32(i)); rc != sqlite3.SQLITE_OK {
		return s.c.err(rc)
	}
	return nil
}

// bindText binds b as TEXT (the empty string, not NULL, when b is
// empty). b is copied once, into memory the statement owns until it is
// reset, and SQLite reads it there.
func (s *rawStmt) bindText(i int, b []byte) error {
	p, err := s.bound.copy(s.c.tls, b)
	if err != nil {
		return err
	}
	// A nil destructor is SQLITE_STATIC: no copy of SQLite's own.
	if rc := sqlite3.Xsqlite3_bind_text(s.c.tls, s.p, int32(i), p, int32(len(b)), 0); rc != sqlite3.SQLITE_OK {
		return s.c.err(rc)
	}
	return nil
}

// bindString is bindText of a string's bytes (copied; not kept).
func (s *rawStmt) bindString(i int, v string) error {
	return s.bindText(i, unsafe.Slice(unsafe.StringData(v), len(v)))
}

// step advances to the next row: true with a row, false when done.
func (s *rawStmt) step() (bool, error) {
	switch rc := sqlite3.Xsqlite3_step(s.c.tls, s.p); rc {
	case sqlite3.SQLITE_ROW:
		return true, nil
	case sqlite3.SQLITE_DONE:
		return false, nil
	default:
		return false, s.c.err(rc)
	}
}

func (s *rawStmt) int64(col int) int64 {
	return sqlite3.Xsqlite3_column_int64(s.c.tls, s.p, int32(col))
}

// text is a column's bytes in SQLite's memory, valid until the next step
// or reset: copy what is kept.
func (s *rawStmt) text(col int) []byte {
	p := sqlite3.Xsqlite3_column_text(s.c.tls, s.p, int32(col))
	n := sqlite3.Xsqlite3_column_bytes(s.c.tls, s.p, int32(col))
	if p == 0 || n <= 0 {
		return nil
	}
	return libc.GoBytes(p, int(n))
}

// reset makes the statement ready to run again and releases the memory
// bound to it.
func (s *rawStmt) reset() error {
	rc := sqlite3.Xsqlite3_reset(s.c.tls, s.p)
	sqlite3.Xsqlite3_clear_bindings(s.c.tls, s.p)
	s.bound.rewind(s.c.tls)
	if rc != sqlite3.SQLITE_OK {
		return s.c.err(rc)
	}
	return nil
}

func (s *rawStmt) finalize() {
	if s.p != 0 {
		sqlite3.Xsqlite3_finalize(s.c.tls, s.p)
		s.p = 0
	}
	s.bound.free(s.c.tls)
}

// cArena hands out copies of Go bytes in C memory (libc's heap), valid
// until rewind. It grows by whole blocks, so what it handed out never moves.
type cArena struct {
	blocks []uintptr // the last is being filled
	size   int       // of the last block
	used   int       // bytes of the last block handed out
}

func (a *cArena) copy(tls *libc.TLS, b []byte) (uintptr, error) {
	n := len(b) + 1 // room for a NUL, so an empty value still has an address
	if len(a.blocks) == 0 || a.used+n > a.size {
		size := max(64<<10, 2*a.size, n)
		p := libc.Xmalloc(tls, types.Size_t(size))
		if p == 0 {
			return 0, errors.New("store: out of memory binding a value")
		}
		a.blocks, a.size, a.used = append(a.blocks, p), size, 0
	}
	p := a.blocks[len(a.blocks)-1] + uintptr(a.used)
	dst := libc.GoBytes(p, n)
	copy(dst, b)
	dst[len(b)] = 0
	a.used += n
	return p, nil
}

// rewind takes back everything handed out, keeping the largest block.
func (a *cArena) rewind(tls *libc.TLS) {
	if len(a.blocks) > 1 {
		for _, p := range a.blocks[:len(a.blocks)-1] {
			libc.Xfree(tls, p)
		}
		a.blocks = append(a.blocks[:0], a.blocks[len(a.blocks)-1])
	}
	a.used = 0
}

func (a *cArena) free(tls *libc.TLS) {
	for _, p := range a.blocks {
		libc.Xfree(tls, p)
	}
	a.blocks, a.size, a.used = nil, 0, 0
}
