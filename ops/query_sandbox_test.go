package ops_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/internal/dbtest"
	"github.com/paydesk/paydesk/internal/testenv"
	"github.com/paydesk/paydesk/store"
)

// TestListingAgreesWithTheQuery: for each way an order and its platform
// can stand, the verdict a live query gives (QueryResult.Disagrees) is the
// one the listing shows afterwards from the query log (OrderRow.Disagrees),
// so the console never marks a row the query called fine or the reverse.
func TestListingAgreesWithTheQuery(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, db string) {
		env := testenv.New(t, testenv.Options{DB: db})
		ctx := context.Background()
		created := time.Now().Add(-time.Hour)
		order := func(no string, ch gateway.Channel) testenv.Order {
			return testenv.Order{OutTradeNo: no, Channel: ch, Amount: 3000, CreatedAt: created}
		}
		// importPaid imports an order already PAID under tradeNo, as a
		// migration from an older system does.
		importPaid := func(no, tradeNo string) {
			p := filepath.Join(t.TempDir(), "paid.csv")
			csv := fmt.Sprintf("out_trade_no,channel,amount,created_at,status,trade_no,paid_at\n%s,alipay,30.00,%s,PAID,%s,%s\n",
				no, created.Format(time.RFC3339), tradeNo, created.Add(time.Minute).Format(time.RFC3339))
			if err := os.WriteFile(p, []byte(csv), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := env.Service.ImportOrders(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		cases := []struct {
			no    string
			setup func(no string)
			want  bool
		}{
			{"PDAGREE01", func(no string) {
				env.ImportOrders(t, order(no, gateway.Alipay))
				env.Pay(t, order(no, gateway.Alipay), time.Time{})
			}, false},
			{"PDAGREE02", func(no string) { env.ImportOrders(t, order(no, gateway.WeChat)) }, false},
			{"PDAGREE03", func(no string) { importPaid(no, "2026112222001499999999") }, true},
			{"PDAGREE04", func(no string) {
				env.ImportOrders(t, order(no, gateway.WeChat))
				if _, err := env.Sandbox.CreateTrade(sandbox.TradeSpec{Channel: gateway.WeChat, OutTradeNo: no, Amount: 3000}); err != nil {
					t.Fatal(err)
				}
				if _, err := env.Sandbox.CloseTrade(gateway.WeChat, no, time.Time{}); err != nil {
					t.Fatal(err)
				}
			}, true},
			{"PDAGREE05", func(no string) {
				importPaid(no, "2026112222001400000001")
				env.Pay(t, order(no, gateway.Alipay), time.Time{}) // another trade number
			}, true},
			{"PDAGREE06", func(no string) {
				// WeChat reports any refund in the trade state (REFUND);
				// Alipay keeps a partly refunded trade TRADE_SUCCESS.
				env.ImportOrders(t, order(no, gateway.WeChat))
				env.Pay(t, order(no, gateway.WeChat), time.Time{})
				if _, err := env.Service.QueryTrade(ctx, no); err != nil {
					t.Fatal(err)
				}
				if _, err := env.Sandbox.ConsoleRefund(sandbox.RefundSpec{Channel: gateway.WeChat, OutTradeNo: no, Amount: 1000}); err != nil {
					t.Fatal(err)
				}
			}, true},
		}
		for _, c := range cases {
			c.setup(c.no)
			r, err := env.Service.QueryTrade(ctx, c.no)
			if err != nil {
				t.Fatalf("%s: %v", c.no, err)
			}
			p, err := env.Service.ListOrders(ctx, store.OrderFilter{Number: c.no}, nil, store.Older, 1)
			if err != nil || len(p.Rows) != 1 {
				t.Fatalf("%s: %+v %v", c.no, p.Rows, err)
			}
			row := p.Rows[0]
			if r.Disagrees != c.want || row.Disagrees != r.Disagrees {
				t.Errorf("%s (%s): query says disagrees=%v (%s), listing says %v; want %v",
					c.no, row.Platform.PlatformState, r.Disagrees, r.Note, row.Disagrees, c.want)
			}
		}
	})
}
