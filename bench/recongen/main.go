// Command recongen makes the data of the reconciliation benchmarks (see
// bench/recon-bench.sh and bench/funds-bench.sh): a paydesk workspace with N
// orders paid on one business day, that day's Alipay trade bill as a GBK
// zip with 25 columns (0.3% of it perturbed: amounts changed, lines
// missing, lines with no order), and the same two sides as plain UTF-8
// CSVs for DuckDB and the sqlite3 CLI. With -funds it also writes the
// day's 账务明细 (funds.zip, GBK, 16 columns): a payment and its 收费 row
// per trade, 0.3% perturbed (movements missing, amounts changed,
// movements nothing explains), a few withdrawals; and funds.csv for DuckDB.
package main

import (
	"bufio"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/store"
)

// benchAccount is the merchant's Alipay account both bills state (#账号:
// the PID 2088101122136241 and its four-digit suffix): a fund bill of
// another account than the kept trade bill's is refused.
const benchAccount = "20881011221362410156"

func main() {
	dir := flag.String("dir", "bench/out/recon", "output folder")
	n := flag.Int("n", 1_000_000, "orders (and bill lines)")
	funds := flag.Bool("funds", false, "also write the day's fund bill (two movements a trade)")
	flag.Parse()
	if err := run(*dir, *n, *funds); err != nil {
		log.Fatal(err)
	}
}

// Day is the benchmark's business day.
var day = time.Date(2026, 11, 22, 0, 0, 0, 0, gateway.Shanghai)

func run(dir string, n int, withFunds bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	start := time.Now()
	r := rand.New(rand.NewPCG(2026, 1122))
	dbPath := filepath.Join(dir, "template.db")
	_ = os.Remove(dbPath)
	st, err := store.Open(dbPath) // the real schema and migrations
	if err != nil {
		return err
	}
	st.Close()
	db, err := sql.Open("sqlite", "file:"+dbPath+"?_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)&_pragma=cache_size(-262144)")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)

	zf, err := os.Create(filepath.Join(dir, "bill.zip"))
	if err != nil {
		return err
	}
	bill := sandbox.NewAlipayBillZip(zf, benchAccount, day)
	ordersCSV, billCSV := csvFile(dir, "orders.csv"), csvFile(dir, "bill.csv")
	fmt.Fprintln(ordersCSV.w, "out_trade_no,channel,amount,status,trade_no,paid_at")
	fmt.Fprintln(billCSV.w, "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注")

	tx, err := db.Begin()
	if err != nil {
		return err
	}
	ins, err := tx.Prepare(`INSERT INTO orders (out_trade_no, channel, amount, currency, subject, status, trade_no, paid_at, paid_via, refunded, created_at, updated_at)
		VALUES (?, 'alipay', ?, 'CNY', '会员月卡', 'PAID', ?, ?, 'notify', 0, ?, ?)`)
	if err != nil {
		return err
	}
	var fw *sandbox.AlipayFundWriter
	var fundsZip *os.File
	var fundsCSV *csvOut
	fundPerturbed, seq := 0, 0
	if withFunds {
		if fundsZip, err = os.Create(filepath.Join(dir, "funds.zip")); err != nil {
			return err
		}
		fw = sandbox.NewAlipayFundZip(fundsZip, benchAccount, day, sandbox.AlipayFundOpening)
		fundsCSV = csvFile(dir, "funds.csv")
		fmt.Fprintln(fundsCSV.w, "flow_no,trade_no,out_trade_no,kind,amount")
	}
	// movement writes one movement to both fund files.
	movement := func(r sandbox.AlipayFundRow, kind string) error {
		seq++
		r.FlowNo = fmt.Sprintf("2026112210%012d", seq)
		fmt.Fprintf(fundsCSV.w, "%s,%s,%s,%s,%s\n", r.FlowNo, r.BizNo, r.OutTradeNo, kind, r.Amount)
		return fw.Add(&r)
	}
	var perturbed int
	step := 24 * time.Hour / time.Duration(n)
	for i := range n {
		created := day.Add(time.Duration(i) * step)
		paid := created.Add(20 * time.Second)
		if !paid.Before(day.Add(24 * time.Hour)) {
			paid = created
		}
		no := fmt.Sprintf("PD%s%06d", created.Format("20060102150405"), r.IntN(1_000_000))
		no = fmt.Sprintf("%s%07d", no, i) // unique, time-prefixed, random part
		tradeNo := fmt.Sprintf("2026112222001%015d", i)
		amount := gateway.Money(100 + r.IntN(99900))
		billAmount := amount
		inStore, inBill := true, true
		switch p := r.IntN(1000); {
		case p == 0:
			billAmount++ // AMOUNT_MISMATCH
			perturbed++
		case p == 1:
			inBill = false // MISSING_PLATFORM
			perturbed++
		case p == 2:
			inStore = false // MISSING_LOCAL
			perturbed++
		}
		if inStore {
			if _, err := ins.Exec(no, int64(amount), tradeNo, paid.UnixMilli(), created.UnixMilli(), created.UnixMilli()); err != nil {
				return err
			}
			fmt.Fprintf(ordersCSV.w, "%s,alipay,%s,PAID,%s,%s\n", no, amount, tradeNo, paid.Format(time.DateTime))
		}
		if inBill {
			row := sandbox.AlipayBillRow{TradeNo: tradeNo, OutTradeNo: no, Subject: "会员月卡", CreatedAt: created, FinishedAt: paid,
				Buyer: "138****0000", Amount: billAmount, Fee: sandbox.AlipayFee(billAmount)}
			if err := bill.Add(row); err != nil {
				return err
			}
			fmt.Fprintf(billCSV.w, "%s,%s,交易,会员月卡,%s,%s,,,,,138****0000,%s,%s,0.00,0.00,0.00,0.00,0.00,,0.00,0.00,,%s,0.00,\n",
				tradeNo, no, created.Format(time.DateTime), paid.Format(time.DateTime), billAmount, billAmount, -sandbox.AlipayFee(billAmount))
		}
		if !withFunds {
			continue
		}
		// The money of the payment as the platform booked it (the bill's
		// amount, or the order's when the bill lacks the line).
		moved, fee := amount, sandbox.AlipayFee(amount)
		if inBill {
			moved, fee = billAmount, sandbox.AlipayFee(billAmount)
		}
		switch p := r.IntN(1000); {
		case p == 0:
			fundPerturbed++ // FUND_MISSING: the money never came
			continue
		case p == 1:
			moved -= 100 // FUND_AMOUNT_MISMATCH
			fundPerturbed++
		case p == 2:
			fundPerturbed++ // FUND_UNEXPECTED: a deduction nothing explains
			if err := movement(sandbox.AlipayFundRow{BizNo: fmt.Sprintf("20261122400%017d", i), Time: paid, Peer: "sys***@alipay.com",
				Amount: -gateway.Money(100 + r.IntN(900)), Type: "其它", Remark: "扣款", Desc: "扣款"}, "OTHER"); err != nil {
				return err
			}
		}
		if err := movement(sandbox.AlipayFundRow{BizNo: tradeNo, OutTradeNo: no, Subject: "会员月卡", Time: paid, Peer: "138****0000",
			Amount: moved, Type: "在线支付", Desc: "交易收款"}, "PAYMENT"); err != nil {
			return err
		}
		if err := movement(sandbox.AlipayFundRow{BizNo: tradeNo, OutTradeNo: no, Subject: "会员月卡", Time: paid, Peer: "sys***@alipay.com",
			Amount: -fee, Type: "收费", Remark: "服务费[" + tradeNo + "]", Desc: "交易服务费"}, "FEE"); err != nil {
			return err
		}
		if i%(n/4+1) == n/8 {
			// A withdrawal to the bank, four a day.
			if err := movement(sandbox.AlipayFundRow{BizNo: fmt.Sprintf("20261122300%017d", i), Time: paid, Peer: "银行卡",
				Amount: -100000, Type: "提现", Remark: "提现", Desc: "提现"}, "WITHDRAWAL"); err != nil {
				return err
			}
		}
	}
	if withFunds {
		if err := fw.Close(); err != nil {
			return err
		}
		if err := fundsZip.Close(); err != nil {
			return err
		}
		if err := fundsCSV.close(); err != nil {
			return err
		}
		log.Printf("fund bill: %d movements, %d perturbed", seq, fundPerturbed)
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if _, err := db.Exec(`UPDATE order_counts SET n = (SELECT count(*) FROM orders) WHERE channel = 'alipay' AND status = 'PAID'`); err != nil {
		return err
	}
	if _, err := db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return err
	}
	if err := bill.Close(); err != nil {
		return err
	}
	if err := zf.Close(); err != nil {
		return err
	}
	for _, f := range []*csvOut{ordersCSV, billCSV} {
		if err := f.close(); err != nil {
			return err
		}
	}
	cfg := "[store]\npath = \"paydesk.db\"\n[operator]\nname = \"bench\"\nrole = \"admin\"\n"
	if err := os.WriteFile(filepath.Join(dir, "paydesk.toml"), []byte(cfg), 0o600); err != nil {
		return err
	}
	log.Printf("%d orders, %d perturbed (0.3%%), day %s, in %s", n, perturbed, day.Format(time.DateOnly), time.Since(start).Round(time.Second))
	return nil
}

type csvOut struct {
	f *os.File
	w *bufio.Writer
}

func csvFile(dir, name string) *csvOut {
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		log.Fatal(err)
	}
	return &csvOut{f: f, w: bufio.NewWriterSize(f, 1<<20)}
}

func (c *csvOut) close() error {
	if err := c.w.Flush(); err != nil {
		return err
	}
	return c.f.Close()
}
