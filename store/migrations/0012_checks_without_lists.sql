-- SQLite evaluates `x IN (a, b, c)` over more than two constants by
-- building a temporary b-tree of the list each time a statement runs, and
-- a CHECK constraint or a partial index's WHERE is evaluated by every
-- statement that writes its columns: a payment callback built seven such
-- trees (a sixth of the store's time per callback; bench/README.md). The
-- same conditions written as equalities joined by OR mean the same and
-- are evaluated in place. The partial index's condition is edited the same
-- way: a query uses a partial index only when its own WHERE repeats the
-- index's terms, and the day's read (store/scan_sqlite.go) is written so.
--
-- Only the text of the CHECK constraints and of the index's condition
-- changes, not the stored rows or index entries (the same rows satisfy both
-- forms), so the definitions are edited in place, as
-- SQLite documents for such changes (https://sqlite.org/lang_altertable.html,
-- "Making Other Kinds Of Table Schema Changes"); RESET reloads the schema
-- on this connection.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(replace(sql,
        'CHECK (status IN (''PENDING'', ''PAID'', ''CLOSED'', ''REFUNDED'', ''PARTIALLY_REFUNDED''))',
        'CHECK (status = ''PENDING'' OR status = ''PAID'' OR status = ''CLOSED'' OR status = ''REFUNDED'' OR status = ''PARTIALLY_REFUNDED'')'),
        'CHECK (paid_via IN (''notify'', ''query'', ''import''))',
        'CHECK (paid_via = ''notify'' OR paid_via = ''query'' OR paid_via = ''import'')')
    WHERE type = 'table' AND name = 'orders';
UPDATE sqlite_schema SET sql = replace(sql,
        'CHECK (verify_status IN (''UNVERIFIED'', ''VERIFIED'', ''REJECTED''))',
        'CHECK (verify_status = ''UNVERIFIED'' OR verify_status = ''VERIFIED'' OR verify_status = ''REJECTED'')')
    WHERE type = 'table' AND name = 'notifications';
UPDATE sqlite_schema SET sql = replace(sql,
        'CHECK (status IN (''PENDING'', ''SUCCESS'', ''FAILED'', ''ABNORMAL''))',
        'CHECK (status = ''PENDING'' OR status = ''SUCCESS'' OR status = ''FAILED'' OR status = ''ABNORMAL'')')
    WHERE type = 'table' AND name = 'refunds';
UPDATE sqlite_schema SET sql = replace(sql,
        'status IN (''PAID'', ''PARTIALLY_REFUNDED'', ''REFUNDED'')',
        '(status = ''PAID'' OR status = ''PARTIALLY_REFUNDED'' OR status = ''REFUNDED'')')
    WHERE type = 'index' AND name = 'orders_paid_untimed';
PRAGMA writable_schema = RESET;
-- Any schema change moves the schema version on, so that every other
-- connection reloads the edited text; this one costs nothing at any size
-- (re-creating the index would read every order).
CREATE TABLE schema_bump (x);
DROP TABLE schema_bump;
