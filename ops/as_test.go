package ops_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/internal/dbtest"
	"github.com/paydesk/paydesk/internal/testenv"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/store"
)

// TestServicesDerivedWithAsShareOneQueryLimit: three people's services,
// derived from one with As (as the SSH console does per session), query
// nine orders at once. Together they stay within the one [query] qps:
// nine queries at 4 a second take at least two seconds, where three
// separate limits would let them through in half a second. Each query is
// logged and audited under its own person.
func TestServicesDerivedWithAsShareOneQueryLimit(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, db string) {
		env := testenv.New(t, testenv.Options{DB: db, Channels: []gateway.Channel{gateway.Alipay}})
		base, err := ops.New(ops.Options{Store: env.Store, Platforms: env.Platforms, Operator: ops.Operator{Name: "host", Role: ops.Admin}, QueryQPS: 4})
		if err != nil {
			t.Fatal(err)
		}
		var nos []string
		for i := range 9 {
			o := testenv.Order{OutTradeNo: fmt.Sprintf("PDLIMIT%05d", i), Channel: gateway.Alipay, Amount: 100}
			env.ImportOrders(t, o)
			env.Pay(t, o, time.Time{})
			nos = append(nos, o.OutTradeNo)
		}
		people := []string{"li.na", "wang.wei", "zhao.min"}
		ctx := context.Background()
		start := time.Now()
		var wg sync.WaitGroup
		for i, name := range people {
			svc, err := base.As(ops.Operator{Name: name, Role: ops.Support, Via: "ssh 192.0.2.1:5000" + fmt.Sprint(i)})
			if err != nil {
				t.Fatal(err)
			}
			for _, no := range nos[3*i : 3*i+3] {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := svc.QueryTrade(ctx, no); err != nil {
						t.Errorf("%s queries %s: %v", name, no, err)
					}
				}()
			}
		}
		wg.Wait()
		// A lower bound only: a slow machine makes it longer, never shorter.
		if took := time.Since(start); took < 1900*time.Millisecond {
			t.Errorf("9 queries at 4 a second across three sessions took %s; want at least 2 s", took)
		}
		for i, name := range people {
			for _, no := range nos[3*i : 3*i+3] {
				es, _ := env.Store.ListAudit(ctx, store.AuditFilter{Action: string(ops.ActQuery), Target: no}, 0, 10)
				if len(es) != 1 || es[0].Operator != name || es[0].Via != "ssh 192.0.2.1:5000"+fmt.Sprint(i) {
					t.Errorf("audit of %s: %+v; want one by %s via ssh", no, es, name)
				}
			}
		}
	})
}

// TestAsChecksTheOperator: a derived service needs a name and a known
// role, as New does, and leaves the service it came from as it was.
func TestAsChecksTheOperator(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, db string) {
		env := testenv.New(t, testenv.Options{DB: db, Operator: "host"})
		if _, err := env.Service.As(ops.Operator{Role: ops.Viewer}); err == nil {
			t.Error("As without a name")
		}
		if _, err := env.Service.As(ops.Operator{Name: "x", Role: "boss"}); err == nil || !strings.Contains(err.Error(), `unknown role "boss"`) {
			t.Errorf("As with an unknown role: %v", err)
		}
		v, err := env.Service.As(ops.Operator{Name: "victor", Role: ops.Viewer, Via: "ssh 192.0.2.9:22"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Refund(context.Background(), "PDNONE", 100, "x"); !errors.Is(err, ops.ErrForbidden) {
			t.Errorf("a viewer derived with As refunds: %v", err)
		}
		if env.Service.Operator().Name != "host" || !env.Service.Can(ops.ActRefund) {
			t.Errorf("As changed the service it came from: %+v", env.Service.Operator())
		}
	})
}
