-- SQLite evaluates `x IN (a, b, c)` over more than two constants by
-- building a temporary b-tree of the list each time a statement runs, and
-- a CHECK constraint or a partial index's WHERE is evaluated by every
-- statement that writes its columns: a payment callback built seven such
-- trees (a sixth of the store's time per callback; bench/README.md). The
-- same conditions written as equalities joined by OR mean the same and
-- are evaluated in place.
--
-- Only the text of CHECK constraints changes, not the stored rows (which
-- satisfy both forms), so the tables' definitions are edited in place, as
-- SQLite documents for such changes (https://sqlite.org/lang_altertable.html,
-- "Making Other Kinds Of Table Schema Changes"); RESET reloads the schema
-- on this connection, and the index's re-creation below moves the schema
-- version on, so every other connection reloads it too.
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
PRAGMA writable_schema = RESET;
DROP INDEX orders_paid_untimed;
CREATE INDEX orders_paid_untimed ON orders (channel, created_at)
    WHERE paid_at IS NULL AND (status = 'PAID' OR status = 'PARTIALLY_REFUNDED' OR status = 'REFUNDED');
