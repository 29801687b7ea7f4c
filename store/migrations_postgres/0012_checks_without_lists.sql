-- SQLite's migration 0012 rewrites CHECK constraints and a partial index's
-- condition that list values with IN, which SQLite evaluates by building a
-- table of the list each time; PostgreSQL evaluates such a list in place,
-- so its schema stays as it is.
SELECT 1;
