// The fund-flow benchmark's DuckDB peer: the same comparison as `paydesk
// recon funds` on the same data, as plain UTF-8 CSVs: the day's bookings
// (the trade bill's lines and the orders, joined on the trade number; the
// bill's settled amount and fee where it has the line), the account's
// movements summed per trade (payments and fees), every booking put in
// FUND_MATCHED / FUND_MISSING / FUND_AMOUNT_MISMATCH by the same rules
// (the fee taken apart or netted, or no fee taken), every movement no
// booking explains FUND_UNEXPECTED, withdrawals listed; counted and summed
// per category, and the list of non-matched items produced.
import { DuckDBInstance } from '@duckdb/node-api';

const dir = process.argv[2];
const t0 = performance.now();
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
await con.run(`
  CREATE TABLE o AS SELECT out_trade_no, trade_no, CAST(amount AS DECIMAL(18,2)) AS amount
    FROM read_csv('${dir}/orders.csv', header = true, all_varchar = true);
  CREATE TABLE b AS SELECT "支付宝交易号" AS trade_no, "商户订单号" AS out_trade_no,
      CAST("商家实收（元）" AS DECIMAL(18,2)) AS amount, -CAST("服务费（元）" AS DECIMAL(18,2)) AS fee
    FROM read_csv('${dir}/bill.csv', header = true, all_varchar = true) WHERE "业务类型" = '交易';
  CREATE TABLE e AS SELECT coalesce(b.trade_no, o.trade_no) AS trade_no, coalesce(b.out_trade_no, o.out_trade_no) AS out_trade_no,
      coalesce(b.amount, o.amount) AS amount, b.fee AS fee
    FROM o FULL OUTER JOIN b ON o.trade_no = b.trade_no;
  CREATE TABLE m AS SELECT flow_no, trade_no, out_trade_no, kind, CAST(amount AS DECIMAL(18,2)) AS amount
    FROM read_csv('${dir}/funds.csv', header = true, all_varchar = true);
  CREATE TABLE g AS SELECT trade_no,
      coalesce(sum(amount) FILTER (WHERE kind = 'PAYMENT'), 0) AS principal, count(*) FILTER (WHERE kind = 'PAYMENT') AS np,
      coalesce(sum(amount) FILTER (WHERE kind = 'FEE'), 0) AS fees, count(*) FILTER (WHERE kind = 'FEE') AS nf
    FROM m WHERE kind IN ('PAYMENT', 'FEE') GROUP BY trade_no;
  CREATE TABLE r AS
    SELECT e.out_trade_no AS ref, CASE
        WHEN g.trade_no IS NULL THEN 'FUND_MISSING'
        WHEN g.np = 0 THEN 'FUND_MISSING'
        WHEN g.principal = e.amount AND (g.nf = 0 OR e.fee IS NULL OR g.fees = -e.fee) THEN 'FUND_MATCHED'
        WHEN g.nf = 0 AND e.fee IS NOT NULL AND g.principal = e.amount - e.fee THEN 'FUND_MATCHED'
        ELSE 'FUND_AMOUNT_MISMATCH' END AS category,
      e.amount - coalesce(e.fee, 0) AS expected, coalesce(g.principal + g.fees, 0) AS moved
    FROM e LEFT JOIN g ON g.trade_no = e.trade_no
    UNION ALL
    SELECT m.flow_no, CASE WHEN m.kind = 'WITHDRAWAL' THEN 'WITHDRAWAL' ELSE 'FUND_UNEXPECTED' END, NULL, m.amount
    FROM m WHERE m.kind IN ('WITHDRAWAL', 'OTHER')
      OR (m.kind IN ('PAYMENT', 'FEE') AND NOT EXISTS (SELECT 1 FROM e WHERE e.trade_no = m.trade_no));
`);
const totals = await con.runAndReadAll(`SELECT category, count(*) AS n,
    sum(CASE WHEN category = 'FUND_MISSING' THEN expected ELSE moved END) AS amount FROM r GROUP BY 1 ORDER BY 1`);
const findings = await con.runAndReadAll(`SELECT * FROM r WHERE category <> 'FUND_MATCHED' ORDER BY category, ref`);
const ms = performance.now() - t0;
for (const row of totals.getRows()) console.log(row.map(String).join(' '));
console.log(`duckdb findings=${findings.getRows().length} seconds=${(ms / 1000).toFixed(3)}`);
