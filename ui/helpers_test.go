package ui

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/internal/testenv"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/store"
)

func TestMain(m *testing.M) {
	// Goldens are plain text: the ASCII profile drops every colour and
	// attribute, which is also what NO_COLOR users see.
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

// testNow is the pinned clock: 09:30 on 23 November in Shanghai, so
// "yesterday" is the 22nd, the day of the fixture's orders.
var testNow = time.Date(2026, 11, 23, 9, 30, 0, 0, gateway.Shanghai)

func pinnedClock() time.Time { return testNow }

// fixtureOrder is one order of the fixture: a small day of orders on both
// channels in every state. onAlipay says what the Alipay sandbox knows of
// it: "paid" (the trade is paid there; the order is imported with the
// sandbox's trade number), "waiting" (created, not paid), "closed", or ""
// (nothing: a WeChat order, WeChat not being configured, or the order the
// platform never heard of).
type fixtureOrder struct {
	no, channel, amount, subject, status, created, tradeNo, paidAt, refunded string
	onAlipay                                                                 string
}

var fixtureOrders = []fixtureOrder{
	{"PD20261122A1B2C3", "alipay", "12.30", "会员月卡", "PAID", "2026-11-22 10:00:00", "", "2026-11-22 10:00:30", "", "paid"},
	{"PD20261122D4E5F6", "wechat", "0.01", "Test", "PENDING", "2026-11-22 23:59:50", "", "", "", ""},
	{"PD20261122G7H8J9", "alipay", "1000.00", "Annual plan", "CLOSED", "2026-11-22 11:00:00", "", "", "", "closed"},
	{"PD20261122K2M3N4", "alipay", "2000.00", "Enterprise plan", "PAID", "2026-11-22 12:00:00", "", "2026-11-22 12:00:40", "", "paid"},
	{"PD20261122P5Q6R7", "wechat", "88.00", "Gift card", "PAID", "2026-11-22 13:00:00", "4200002026112200005", "2026-11-22 13:01:00", "", ""},
	{"PD20261122S8T9U2", "alipay", "45.60", "会员月卡", "PARTIALLY_REFUNDED", "2026-11-22 14:00:00", "", "2026-11-22 14:00:20", "10.00", "paid"},
	{"PD20261122V3W4X5", "wechat", "19.90", "Coffee", "REFUNDED", "2026-11-22 15:00:00", "4200002026112200007", "2026-11-22 15:00:10", "19.90", ""},
	{"PD20261122Y6Z7A8", "alipay", "5.00", "Sticker", "PENDING", "2026-11-22 16:00:00", "", "", "", "waiting"},
	// Paid here, unknown to Alipay: migrated from an older system with a
	// trade number no platform issued (a suspected forged callback looks
	// the same).
	{"PD20261121B9C2D3", "alipay", "300.00", "Old order", "PAID", "2026-11-21 09:00:00", "2026112122001400009", "2026-11-21 09:00:30", "", ""},
	{"PD20261121E4F5G6", "wechat", "66.60", "Old order", "PAID", "2026-11-21 18:00:00", "4200002026112100010", "2026-11-21 18:00:30", "", ""},
}

// ghostOrder is the fixture's paid order that Alipay does not know.
const ghostOrder = "PD20261121B9C2D3"

func shanghai(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation(time.DateTime, s, gateway.Shanghai)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

type fixture struct {
	svc *ops.Service
	st  *store.Store
	// env is the whole environment: the Alipay sandbox on loopback, the
	// real Alipay client, the store. Nil in benchmarks.
	env *testenv.Env
	dir string
}

// alipayTrade is what the Alipay sandbox holds for an order.
func (f *fixture) alipayTrade(t testing.TB, no string) *sandbox.Trade {
	t.Helper()
	tr, ok := f.env.Sandbox.Trade(gateway.Alipay, no)
	if !ok {
		t.Fatalf("the sandbox has no alipay trade %s", no)
	}
	return tr
}

// newFixture is a real environment (internal/testenv): the sandbox on
// loopback with the real Alipay client pointed at it, a real store in a
// temp dir, the service as operator alice (admin), the clock pinned. Only
// Alipay is configured, as for a merchant on Alipay alone, so WeChat
// orders are listed but not queried or refunded. With orders it makes the
// fixture's Alipay trades at the sandbox, imports the orders through ops
// (the paid ones under the sandbox's trade numbers), and receives three
// callbacks through the real intake: two WeChat ones (WeChat not
// configured: FAILED) and a forged Alipay one (REJECTED). A role other than
// admin gets a service of its own (operator victor) over the same store.
func newFixture(t testing.TB, role ops.Role, withOrders bool) *fixture {
	t.Helper()
	env := testenv.New(t, testenv.Options{Operator: "alice", Channels: []gateway.Channel{gateway.Alipay}, Now: pinnedClock,
		Sandbox: func(c *sandbox.Config) { c.Now = pinnedClock }})
	admin := env.Service
	if withOrders {
		importFixture(t, env)
		intake := func(ch gateway.Channel, at string, h http.Header, body string) {
			admin.IntakeNotification(context.Background(), ops.Callback{Channel: ch, Header: h, Body: []byte(body), RemoteAddr: "203.0.113.7:443", ReceivedAt: shanghai(t, at)})
		}
		intake(gateway.WeChat, "2026-11-22 13:01:02", http.Header{"Wechatpay-Serial": {"PUB_KEY_ID_0001"}, "Content-Type": {"application/json"}},
			`{"id":"EV-1","create_time":"2026-11-22T13:01:02+08:00","event_type":"TRANSACTION.SUCCESS","resource":{"algorithm":"AEAD_AES_256_GCM","ciphertext":"c2VjcmV0","nonce":"n0nce"},"payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}}`)
		intake(gateway.Alipay, "2026-11-22 10:00:31", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
			"app_id=2021000000000000&out_trade_no=PD20261122A1B2C3&trade_no=2026112222001400001&trade_status=TRADE_SUCCESS&total_amount=12.30&buyer_id=2088102177846880&buyer_logon_id=abc***%40example.com&sign_type=RSA2&sign=AAAA")
		intake(gateway.WeChat, "2026-11-22 15:00:11", http.Header{}, `{"id":"EV-2","event_type":"REFUND.SUCCESS"}`)
	}
	svc := admin
	if role != ops.Admin {
		var err error
		svc, err = ops.New(ops.Options{Store: env.Store, Operator: ops.Operator{Name: "victor", Role: role}, Now: pinnedClock, Platforms: env.Platforms})
		if err != nil {
			t.Fatal(err)
		}
	}
	return &fixture{svc: svc, st: env.Store, env: env, dir: env.Dir}
}

// importFixture makes the fixture's trades at the Alipay sandbox (in
// order, so the sandbox's seeded numbers come out the same every run) and
// imports the orders through ops.
func importFixture(t testing.TB, env *testenv.Env) {
	t.Helper()
	var b strings.Builder
	b.WriteString("out_trade_no,channel,amount,subject,status,created_at,trade_no,paid_at,refunded\n")
	for _, o := range fixtureOrders {
		tradeNo := o.tradeNo
		if o.onAlipay != "" {
			amount, err := gateway.ParseMoney(o.amount)
			if err != nil {
				t.Fatal(err)
			}
			_, err = env.Sandbox.CreateTrade(sandbox.TradeSpec{Channel: gateway.Alipay, OutTradeNo: o.no, Amount: amount, Subject: o.subject,
				CreatedAt: shanghai(t, o.created)})
			if err != nil {
				t.Fatal(err)
			}
			switch o.onAlipay {
			case "paid":
				tr, err := env.Sandbox.Pay(gateway.Alipay, o.no, shanghai(t, o.paidAt))
				if err != nil {
					t.Fatal(err)
				}
				tradeNo = tr.TradeNo
			case "closed":
				if _, err := env.Sandbox.CloseTrade(gateway.Alipay, o.no, shanghai(t, o.created).Add(15*time.Minute)); err != nil {
					t.Fatal(err)
				}
			}
			if o.refunded != "" {
				// Refunded before paydesk kept refund records: made in
				// Alipay's console, and imported as a refunded amount.
				r, _ := gateway.ParseMoney(o.refunded)
				if _, err := env.Sandbox.ConsoleRefund(sandbox.RefundSpec{Channel: gateway.Alipay, OutTradeNo: o.no, Amount: r,
					At: shanghai(t, o.paidAt).Add(time.Hour)}); err != nil {
					t.Fatal(err)
				}
			}
		}
		fmt.Fprintf(&b, "%s,%s,%s,%s,%s,%s,%s,%s,%s\n", o.no, o.channel, o.amount, o.subject, o.status, o.created, tradeNo, o.paidAt, o.refunded)
	}
	p := filepath.Join(env.Dir, "orders.csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Service.ImportOrders(context.Background(), p); err != nil {
		t.Fatal(err)
	}
}

func testOptions() Options {
	return Options{Clock: pinnedClock, Workspace: "~/shop/paydesk.db", noTicks: true}
}

// newModel builds the console at a size, with every first read done.
func newModel(t testing.TB, f *fixture, opts Options, w, h int) *Model {
	t.Helper()
	m := New(context.Background(), f.svc, opts)
	drive(t, m, tea.WindowSizeMsg{Width: w, Height: h})
	runCmd(t, m, m.Init())
	return m
}

// drive sends msgs to the model and runs every command they lead to,
// synchronously, until nothing is left: what the program's event loop
// would do, minus the timing.
func drive(t testing.TB, m *Model, msgs ...tea.Msg) {
	t.Helper()
	for _, msg := range msgs {
		_, cmd := m.Update(msg)
		runCmd(t, m, cmd)
	}
}

func runCmd(t testing.TB, m *Model, cmd tea.Cmd) {
	t.Helper()
	queue := []tea.Cmd{cmd}
	for n := 0; len(queue) > 0; n++ {
		if n > 100000 {
			t.Fatal("commands never settle")
		}
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		msg := c()
		switch msg := msg.(type) {
		case nil:
		case tea.BatchMsg:
			queue = append(queue, msg...)
		case tea.QuitMsg:
		default:
			_, next := m.Update(msg)
			queue = append(queue, next)
		}
	}
}

// keys turns a spec like "j", "enter", "ctrl+c" or "text:PD2026" into key
// messages.
func keys(specs ...string) []tea.Msg {
	var out []tea.Msg
	for _, s := range specs {
		if text, ok := strings.CutPrefix(s, "text:"); ok {
			for _, r := range text {
				out = append(out, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
			}
			continue
		}
		out = append(out, keyMsg(s))
	}
	return out
}

func keyMsg(s string) tea.KeyMsg {
	switch s {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	case "space":
		return tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
	case "pgdown":
		return tea.KeyMsg{Type: tea.KeyPgDown}
	case "pgup":
		return tea.KeyMsg{Type: tea.KeyPgUp}
	case "ctrl+c":
		return tea.KeyMsg{Type: tea.KeyCtrlC}
	case "backspace":
		return tea.KeyMsg{Type: tea.KeyBackspace}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

func press(t testing.TB, m *Model, specs ...string) {
	t.Helper()
	drive(t, m, keys(specs...)...)
}

func (m *Model) orders() *ordersView { return m.views[ordersTab].(*ordersView) }
func (m *Model) notifications() *notificationsView {
	return m.views[notificationsTab].(*notificationsView)
}
func (m *Model) refunds() *refundsView { return m.views[refundsTab].(*refundsView) }
func (m *Model) audit() *auditView     { return m.views[auditTab].(*auditView) }

// mustContain fails unless the frame holds every text.
func mustContain(t testing.TB, frame string, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if !strings.Contains(frame, s) {
			t.Fatalf("frame lacks %q:\n%s", s, frame)
		}
	}
}

func mustNotContain(t testing.TB, frame string, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if strings.Contains(frame, s) {
			t.Fatalf("frame has %q:\n%s", s, frame)
		}
	}
}
