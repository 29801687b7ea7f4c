package ui

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/paydesk/paydesk/gateway"
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

// fixtureCSV is a small day of orders on both channels in every state.
const fixtureCSV = "out_trade_no,channel,amount,subject,status,created_at,trade_no,paid_at,refunded\n" +
	"PD20261122A1B2C3,alipay,12.30,会员月卡,PAID,2026-11-22 10:00:00,2026112222001400001,2026-11-22 10:00:30,\n" +
	"PD20261122D4E5F6,wechat,0.01,Test,PENDING,2026-11-22 23:59:50,,,\n" +
	"PD20261122G7H8J9,alipay,1000.00,Annual plan,CLOSED,2026-11-22 11:00:00,,,\n" +
	"PD20261122K2M3N4,alipay,2000.00,Enterprise plan,PAID,2026-11-22 12:00:00,2026112222001400004,2026-11-22 12:00:40,\n" +
	"PD20261122P5Q6R7,wechat,88.00,Gift card,PAID,2026-11-22 13:00:00,4200002026112200005,2026-11-22 13:01:00,\n" +
	"PD20261122S8T9U2,alipay,45.60,会员月卡,PARTIALLY_REFUNDED,2026-11-22 14:00:00,2026112222001400006,2026-11-22 14:00:20,10.00\n" +
	"PD20261122V3W4X5,wechat,19.90,Coffee,REFUNDED,2026-11-22 15:00:00,4200002026112200007,2026-11-22 15:00:10,19.90\n" +
	"PD20261122Y6Z7A8,alipay,5.00,Sticker,PENDING,2026-11-22 16:00:00,,,\n" +
	"PD20261121B9C2D3,alipay,300.00,Old order,PAID,2026-11-21 09:00:00,2026112122001400009,2026-11-21 09:00:30,\n" +
	"PD20261121E4F5G6,wechat,66.60,Old order,PAID,2026-11-21 18:00:00,4200002026112100010,2026-11-21 18:00:30,\n"

// fakePlatform is a configured platform whose answers the test sets.
type fakePlatform struct {
	ch      gateway.Channel
	mu      sync.Mutex
	trades  map[string]gateway.Trade
	queryEr error
	// refundErr, when set, is the answer to every refund request.
	refundErr error
	refunds   []gateway.RefundRequest
}

func (p *fakePlatform) Channel() gateway.Channel { return p.ch }

func (p *fakePlatform) QueryTrade(_ context.Context, no string) (gateway.Trade, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.queryEr != nil {
		return gateway.Trade{}, p.queryEr
	}
	t, ok := p.trades[no]
	if !ok {
		return gateway.Trade{}, gateway.ErrTradeNotFound
	}
	return t, nil
}

func (p *fakePlatform) Refund(_ context.Context, r gateway.RefundRequest) (gateway.RefundResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refunds = append(p.refunds, r)
	if p.refundErr != nil {
		return gateway.RefundResult{}, p.refundErr
	}
	return gateway.RefundResult{OutTradeNo: r.OutTradeNo, OutRequestNo: r.OutRequestNo, RefundID: "RF" + r.OutRequestNo,
		Status: gateway.RefundSuccess, Amount: r.Amount, RefundedAt: testNow}, nil
}

func (p *fakePlatform) QueryRefund(_ context.Context, no, req string) (gateway.RefundResult, error) {
	return gateway.RefundResult{}, gateway.ErrRefundNotFound
}

func (p *fakePlatform) DownloadBill(context.Context, time.Time, io.Writer) (gateway.BillFile, error) {
	return gateway.BillFile{}, gateway.ErrBillNotReady
}

func (p *fakePlatform) VerifyNotification(http.Header, []byte, time.Time) (gateway.Notification, error) {
	return gateway.Notification{}, gateway.ErrBadSignature
}

func (p *fakePlatform) NotifyReply(err error) gateway.Reply {
	if err != nil {
		return gateway.Reply{Status: 200, Body: []byte("fail")}
	}
	return gateway.Reply{Status: 200, Body: []byte("success")}
}

type fixture struct {
	svc    *ops.Service
	st     *store.Store
	alipay *fakePlatform
	dir    string
}

func storeOf(t testing.TB, f *fixture) *store.Store { return f.st }

// newFixture opens a real store in a temp dir, imports the fixture
// orders through ops, and stores a few callbacks: wechat ones (not
// configured, so FAILED) and an alipay one the fake rejects.
func newFixture(t testing.TB, role ops.Role, withOrders bool) *fixture {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "paydesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ali := &fakePlatform{ch: gateway.Alipay, trades: map[string]gateway.Trade{}}
	now := func() time.Time { return testNow }
	admin, err := ops.New(ops.Options{Store: st, Operator: ops.Operator{Name: "alice", Role: ops.Admin}, Now: now,
		Platforms: map[gateway.Channel]gateway.Platform{gateway.Alipay: ali}})
	if err != nil {
		t.Fatal(err)
	}
	if withOrders {
		p := filepath.Join(dir, "orders.csv")
		if err := os.WriteFile(p, []byte(fixtureCSV), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.ImportOrders(context.Background(), p); err != nil {
			t.Fatal(err)
		}
		intake := func(ch gateway.Channel, at string, h http.Header, body string) {
			when, _ := time.ParseInLocation(time.DateTime, at, gateway.Shanghai)
			admin.IntakeNotification(context.Background(), ops.Callback{Channel: ch, Header: h, Body: []byte(body), RemoteAddr: "203.0.113.7:443", ReceivedAt: when})
		}
		intake(gateway.WeChat, "2026-11-22 13:01:02", http.Header{"Wechatpay-Serial": {"PUB_KEY_ID_0001"}, "Content-Type": {"application/json"}},
			`{"id":"EV-1","create_time":"2026-11-22T13:01:02+08:00","event_type":"TRANSACTION.SUCCESS","resource":{"algorithm":"AEAD_AES_256_GCM","ciphertext":"c2VjcmV0","nonce":"n0nce"},"payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}}`)
		intake(gateway.Alipay, "2026-11-22 10:00:31", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
			"app_id=2021000000000000&out_trade_no=PD20261122A1B2C3&trade_no=2026112222001400001&trade_status=TRADE_SUCCESS&total_amount=12.30&buyer_id=2088102177846880&buyer_logon_id=abc***%40example.com&sign_type=RSA2&sign=AAAA")
		intake(gateway.WeChat, "2026-11-22 15:00:11", http.Header{}, `{"id":"EV-2","event_type":"REFUND.SUCCESS"}`)
	}
	svc := admin
	if role != ops.Admin {
		svc, err = ops.New(ops.Options{Store: st, Operator: ops.Operator{Name: "victor", Role: role}, Now: now,
			Platforms: map[gateway.Channel]gateway.Platform{gateway.Alipay: ali}})
		if err != nil {
			t.Fatal(err)
		}
	}
	return &fixture{svc: svc, st: st, alipay: ali, dir: dir}
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
