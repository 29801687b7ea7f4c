// The reconciliation benchmark's DuckDB peer: the same comparison as
// `paydesk recon run` on the same data, as plain UTF-8 CSVs: read the bill
// and the orders, join them on the merchant order number, put every item
// in MATCHED / AMOUNT_MISMATCH / MISSING_LOCAL / MISSING_PLATFORM, count and
// sum each category, and produce the list of non-matched items.
import { DuckDBInstance } from '@duckdb/node-api';

const dir = process.argv[2];
const t0 = performance.now();
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
await con.run(`
  CREATE TABLE o AS SELECT out_trade_no, CAST(amount AS DECIMAL(18,2)) AS amount, trade_no
    FROM read_csv('${dir}/orders.csv', header = true, all_varchar = true);
  CREATE TABLE b AS SELECT "商户订单号" AS out_trade_no, "支付宝交易号" AS trade_no,
      CAST("订单金额（元）" AS DECIMAL(18,2)) AS amount, "业务类型" AS kind
    FROM read_csv('${dir}/bill.csv', header = true, all_varchar = true);
  CREATE TABLE r AS SELECT coalesce(o.out_trade_no, b.out_trade_no) AS out_trade_no,
      CASE WHEN o.out_trade_no IS NULL THEN 'MISSING_LOCAL'
           WHEN b.out_trade_no IS NULL THEN 'MISSING_PLATFORM'
           WHEN o.amount <> b.amount THEN 'AMOUNT_MISMATCH'
           ELSE 'MATCHED' END AS category,
      o.amount AS local_amount, b.amount AS platform_amount
    FROM o FULL OUTER JOIN b ON o.out_trade_no = b.out_trade_no;
`);
const totals = await con.runAndReadAll(`SELECT category, count(*) AS n, sum(coalesce(platform_amount, local_amount)) AS amount FROM r GROUP BY 1 ORDER BY 1`);
const findings = await con.runAndReadAll(`SELECT * FROM r WHERE category <> 'MATCHED' ORDER BY category, out_trade_no`);
const ms = performance.now() - t0;
for (const row of totals.getRows()) console.log(row.map(String).join(' '));
console.log(`duckdb findings=${findings.getRows().length} seconds=${(ms / 1000).toFixed(3)}`);
