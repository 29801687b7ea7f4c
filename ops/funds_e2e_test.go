package ops_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/internal/dbtest"
	"github.com/paydesk/paydesk/internal/testenv"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/recon"
	"github.com/paydesk/paydesk/store"
)

// TestFundDayFindsEveryInjectedFault is a whole sandbox day on both
// platforms: orders paid through the sandbox with callbacks to the real
// endpoint, refunds, a withdrawal — and three injected fund faults on each
// platform: a payment whose money never reached the account, a deduction
// nothing explains, a fee charged off the contracted rate. Both bills are
// downloaded from the sandbox through the real clients (the trade bill by
// `recon run`, the fund bill by `recon funds`). Each fault is found in its
// category and nothing else is flagged: the wrong fee only as FEE_MISMATCH
// in the trade run (the account took what the bill says), the missing
// money only as FUND_MISSING, the deduction only as FUND_UNEXPECTED.
func TestFundDayFindsEveryInjectedFault(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, db string) {
		rate, _ := gateway.ParseFeeRate("0.006")
		env := testenv.New(t, testenv.Options{DB: db, Serve: true, FeeRates: map[gateway.Channel]gateway.FeeRate{gateway.Alipay: rate, gateway.WeChat: rate}})
		ctx := context.Background()
		d := yesterday()
		at := func(h, m int) time.Time { return d.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }

		for _, ch := range []gateway.Channel{gateway.Alipay, gateway.WeChat} {
			p := string(ch[:1])
			var orders []testenv.Order
			for i := range 8 {
				orders = append(orders, testenv.Order{OutTradeNo: fmt.Sprintf("PDFD%s%03d", p, i), Channel: ch, Amount: gateway.Money(1500 + 731*i), CreatedAt: at(8, 0)})
			}
			missing := testenv.Order{OutTradeNo: "PDFDMISS" + p, Channel: ch, Amount: 4200, CreatedAt: at(8, 0)}
			wrongFee := testenv.Order{OutTradeNo: "PDFDFEE" + p, Channel: ch, Amount: 10000, CreatedAt: at(8, 0)}
			env.ImportOrders(t, append(orders, missing, wrongFee)...)
			for i, o := range orders {
				env.Pay(t, o, at(9, i))
			}
			env.Sandbox.SetFault(ch, missing.OutTradeNo, sandbox.Fault{NoFundMovement: true})
			env.Pay(t, missing, at(10, 0))
			fee := gateway.Money(95) // the rate gives 0.60
			env.Sandbox.SetFault(ch, wrongFee.OutTradeNo, sandbox.Fault{Fee: &fee})
			env.Pay(t, wrongFee, at(10, 30))
			env.WaitDelivered(t, time.Minute)
			// A refund made in the platform's console that afternoon; its
			// notification tells paydesk.
			if _, err := env.Sandbox.ConsoleRefund(sandbox.RefundSpec{Channel: ch, OutTradeNo: orders[2].OutTradeNo, Amount: 1000, At: at(15, 0)}); err != nil {
				t.Fatal(err)
			}
			for _, m := range []sandbox.FundMovement{
				{Time: at(16, 0), Amount: -1234, Remark: "保证金扣款"},
				{Time: at(18, 0), Amount: -20000, Kind: gateway.FundWithdrawal, Remark: "提现"},
			} {
				if err := env.Sandbox.AddFundMovement(ch, m); err != nil {
					t.Fatal(err)
				}
			}
		}
		env.WaitDelivered(t, time.Minute)

		for _, ch := range []gateway.Channel{gateway.Alipay, gateway.WeChat} {
			t.Run(string(ch), func(t *testing.T) {
				p := string(ch[:1])
				trade, err := env.Service.RunRecon(ctx, ops.ReconRequest{Channel: ch, Day: d}, nil)
				if err != nil {
					t.Fatal(err)
				}
				got := findingsByOrder(t, env.Service, trade)
				if len(got) != 1 || len(got["PDFDFEE"+p]) != 1 || got["PDFDFEE"+p][0] != string(recon.FeeMismatch) {
					t.Errorf("trade run: %v, want FEE_MISMATCH on PDFDFEE%s only", got, p)
				}
				if trade.ExpectedFees == nil || trade.Fees-*trade.ExpectedFees != 95-60 {
					t.Errorf("trade fees: charged %s expected %v", trade.Fees, trade.ExpectedFees)
				}

				funds, err := env.Service.RunFundRecon(ctx, ops.ReconRequest{Channel: ch, Day: d}, nil)
				if err != nil {
					t.Fatal(err)
				}
				if funds.Bill.Source != "download" || funds.Bill.Kind != store.BillFunds {
					t.Errorf("fund bill %+v", funds.Bill)
				}
				// The download went to the workspace as trade bills do: the
				// bytes as served (Alipay's zip; WeChat's text, BOM first),
				// hashed once on their way into the spool.
				kept, err := os.ReadFile(funds.Bill.Path)
				if err != nil {
					t.Fatal(err)
				}
				head := map[gateway.Channel]string{gateway.Alipay: "PK\x03\x04", gateway.WeChat: sandbox.WeChatBillBOM + "记账时间,"}[ch]
				if sum := sha256.Sum256(kept); hex.EncodeToString(sum[:]) != funds.Bill.SHA256 || int64(len(kept)) != funds.Bill.Size || !bytes.HasPrefix(kept, []byte(head)) {
					t.Errorf("kept fund bill %s: %d bytes starting %q, sha256 %x; the run says %d bytes, %s", funds.Bill.Path, len(kept), kept[:min(len(kept), 8)], sum, funds.Bill.Size, funds.Bill.SHA256)
				}
				// Whose bill it is: Alipay's states its #账号 (kept with it);
				// WeChat Pay's states none.
				if want := map[gateway.Channel]string{gateway.Alipay: env.Sandbox.AlipayPID() + "0156"}[ch]; funds.Bill.Account != want {
					t.Errorf("fund bill account %q, want %q", funds.Bill.Account, want)
				}
				fs, err := env.Service.Findings(ctx, store.FindingFilter{RunID: funds.ID})
				if err != nil {
					t.Fatal(err)
				}
				var missing, unexpected, withdrawals, other []store.Finding
				for _, f := range fs {
					switch f.Category {
					case string(recon.FundMissing):
						missing = append(missing, f)
					case string(recon.FundUnexpected):
						unexpected = append(unexpected, f)
					case string(recon.Withdrawal):
						withdrawals = append(withdrawals, f)
					default:
						other = append(other, f)
					}
				}
				if len(missing) != 1 || missing[0].OutTradeNo != "PDFDMISS"+p || missing[0].Severity != "critical" || missing[0].LocalAmount != 4200-25 {
					t.Errorf("FUND_MISSING: %+v", missing)
				}
				if len(unexpected) != 1 || unexpected[0].PlatformAmount != -1234 {
					t.Errorf("FUND_UNEXPECTED: %+v", unexpected)
				}
				if len(withdrawals) != 1 || funds.Counts[string(recon.Withdrawal)].Amount != -20000 {
					t.Errorf("WITHDRAWAL: %+v %+v", withdrawals, funds.Counts[string(recon.Withdrawal)])
				}
				if len(other) != 0 {
					t.Errorf("flagged besides the faults: %+v", other)
				}
				// Nine payments and the refund moved as booked — the wrong fee
				// included: the account took what the trade bill says.
				if m := funds.Counts[string(recon.FundMatched)]; m.Count != 10 {
					t.Errorf("FUND_MATCHED %+v, want 10", m)
				}
			})
		}
	})
}

// TestFundBillHeldToMerchantAndDay: a fund bill is held to the merchant
// and the day as a trade bill is, and a refused one changes nothing: no
// run, no bill row, no copy of the file in the workspace, one audited
// error naming the file and the line. Alipay's states its #账号 (the
// sandbox merchant's PID is configured; the hand-made bill, edited, is of
// another);
// WeChat Pay's states no merchant, but every row's 记账时间 must be on the
// day; and a movement booked twice is refused on either. On both engines.
func TestFundBillHeldToMerchantAndDay(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, db string) {
		env := testenv.New(t, testenv.Options{DB: db})
		ctx := context.Background()
		wechatFund, err := os.ReadFile(testdataPath("funds", "wechat_fund_20261122.txt"))
		if err != nil {
			t.Fatal(err)
		}
		lines := bytes.SplitAfter(wechatFund, []byte("\n"))
		dir := t.TempDir()
		twice := filepath.Join(dir, "wechat_fund_twice.txt")
		if err := os.WriteFile(twice, bytes.Join(append(append(append([][]byte{}, lines[:3]...), lines[2]), lines[3:]...), nil), 0o600); err != nil {
			t.Fatal(err)
		}
		alipayFund, err := os.ReadFile(testdataPath("funds", "alipay_fund_20261122.csv"))
		if err != nil {
			t.Fatal(err)
		}
		other := filepath.Join(dir, "alipay_fund_other.csv")
		if err := os.WriteFile(other, bytes.Replace(alipayFund, []byte("#账号：[20880001000000010156]"), []byte("#账号：[20880009000000090156]"), 1), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			ch   gateway.Channel
			day  time.Time
			file string
			kind error
			want string
		}{
			{gateway.Alipay, fundDay, other, gateway.ErrBillMerchant, "alipay_fund_other.csv:2: "},
			{gateway.WeChat, fundDay.AddDate(0, 0, 1), testdataPath("funds", "wechat_fund_20261122.txt"), gateway.ErrBillDay, "wechat_fund_20261122.txt:2: "},
			{gateway.WeChat, fundDay, twice, gateway.ErrBillRepeated, "wechat_fund_twice.txt:4: "},
		} {
			_, err := env.Service.RunFundRecon(ctx, ops.ReconRequest{Channel: c.ch, Day: c.day, BillFile: c.file}, nil)
			if !errors.Is(err, c.kind) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: %v; want %v at %q", filepath.Base(c.file), err, c.kind, c.want)
			}
			audit, aerr := env.Service.ListAudit(ctx, store.AuditFilter{Action: string(ops.ActReconcile)}, 0, 1)
			if aerr != nil || len(audit) != 1 || audit[0].Outcome != store.AuditError || !strings.Contains(audit[0].Error, filepath.Base(c.file)) {
				t.Errorf("%s: not audited as an error naming the file: %+v %v", filepath.Base(c.file), audit, aerr)
			}
			if runs, err := env.Service.ReconRuns(ctx, 10); err != nil || len(runs) != 0 {
				t.Errorf("runs after refused fund bills: %+v %v", runs, err)
			}
			data, err := os.ReadFile(c.file)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(data)
			if b, found, err := env.Store.FindBill(ctx, c.ch, c.day.Format(store.DayFormat), hex.EncodeToString(sum[:])); err != nil || found {
				t.Errorf("%s: a bill row was kept: %+v %v", filepath.Base(c.file), b, err)
			}
		}
		if files := billFiles(t, env); len(files) != 0 {
			t.Errorf("refused fund bills kept in the workspace: %v", files)
		}
	})
}
