-- The reconciliation benchmark's sqlite3 CLI peer: import both CSVs, join
-- them, categorize, count, and list the non-matched items (as paydesk and
-- the DuckDB peer do). Run from the data folder: sqlite3 < this file.
.mode csv
.import orders.csv o
.import bill.csv b
-- Without these SQLite's FULL OUTER JOIN is a nested loop: hours at 1M rows.
CREATE INDEX o_no ON o (out_trade_no);
CREATE INDEX b_no ON b ("商户订单号");
CREATE TABLE r AS
  SELECT coalesce(o.out_trade_no, b."商户订单号") AS out_trade_no,
    CASE WHEN o.out_trade_no IS NULL THEN 'MISSING_LOCAL'
         WHEN b."商户订单号" IS NULL THEN 'MISSING_PLATFORM'
         WHEN o.amount <> b."订单金额（元）" THEN 'AMOUNT_MISMATCH'
         ELSE 'MATCHED' END AS category,
    o.amount AS local_amount, b."订单金额（元）" AS platform_amount
  FROM o FULL OUTER JOIN b ON o.out_trade_no = b."商户订单号";
.mode list
SELECT category, count(*), sum(coalesce(platform_amount, local_amount)) FROM r GROUP BY 1 ORDER BY 1;
SELECT 'sqlite3 findings=' || count(*) FROM (SELECT * FROM r WHERE category <> 'MATCHED' ORDER BY category, out_trade_no);
