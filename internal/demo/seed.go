package demo

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/store"
)

// Fault is one seeded fault and where a person will find it.
type Fault struct {
	Name       string
	Channel    gateway.Channel
	OutTradeNo string
	Day        time.Time
	// Callback is the apply status its (latest) notification shows; empty
	// when the fault leaves no failed notification.
	Callback store.ApplyStatus
	// Finding is the category it gets in the reconciliation of Day; empty
	// when reconciliation has nothing to say.
	Finding string
	// Refund marks a fault about a refund (the finding's kind).
	Refund bool
}

type plan struct {
	no       string
	ch       gateway.Channel
	amount   gateway.Money
	subject  string
	created  time.Time
	paid     time.Time // zero: never paid
	charged  gateway.Money
	fault    sandbox.Fault
	imported bool // imported before the payment
	late     bool // imported after its callback failed
	taken    bool // carries a fault or a refund already
	query    bool // queried live after its callback was lost
}

type seeder struct {
	d      *Demo
	opt    Options
	clock  *atomic.Pointer[time.Time]
	today  time.Time
	rng    *mrand.Rand
	svc    *ops.Service
	zone   *time.Location
	plans  []*plan
	faults []Fault
}

func newSeeder(d *Demo, opt Options, clock *atomic.Pointer[time.Time], today time.Time) *seeder {
	seed := opt.Seed
	if seed == 0 {
		seed = uint64(today.Unix())
	}
	return &seeder{d: d, opt: opt, clock: clock, today: today, rng: mrand.New(mrand.NewPCG(seed, 7)),
		svc: d.Workspace.Service, zone: d.Workspace.Service.Zone()}
}

// What a neighbourhood chain sells: realistic subjects and price ranges.
var catalog = []struct {
	subject  string
	min, max int64 // fen
}{
	{"美式咖啡 大杯", 1800, 3200}, {"拿铁 中杯", 2200, 3800}, {"可颂面包", 900, 1800}, {"会员月卡", 3000, 3000},
	{"会员季卡", 8800, 8800}, {"洗衣服务-衬衫2件", 2400, 3600}, {"干洗 大衣", 4800, 8800}, {"鲜花 小束", 5900, 12900},
	{"外卖 午餐套餐", 2500, 4800}, {"电影票 2张", 7000, 12000}, {"停车费", 500, 3000}, {"充值 100元", 10000, 10000},
	{"健身课 单次", 9900, 19900}, {"生日蛋糕 6寸", 16800, 26800}, {"手机壳", 2900, 6900}, {"Wireless earbuds", 19900, 59900},
}

func (s *seeder) newNo(at time.Time) string {
	const letters = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 6)
	for i := range b {
		b[i] = letters[s.rng.IntN(len(letters))]
	}
	return "PD" + at.In(s.zone).Format("20060102150405") + string(b)
}

// planDays lays out three business days of orders on both channels.
func (s *seeder) planDays() {
	for back := 3; back >= 1; back-- {
		day := s.today.AddDate(0, 0, -back)
		for _, ch := range gateway.Channels {
			for range s.opt.OrdersPerDay {
				item := catalog[s.rng.IntN(len(catalog))]
				amount := item.min
				if item.max > item.min {
					amount += s.rng.Int64N(item.max-item.min+1) / 10 * 10
				}
				// Business hours, busier at lunch and in the evening.
				minute := 7*60 + s.rng.IntN(16*60)
				if s.rng.IntN(3) == 0 {
					minute = 11*60 + 30 + s.rng.IntN(120)
				}
				created := day.Add(time.Duration(minute)*time.Minute + time.Duration(s.rng.IntN(60))*time.Second)
				p := &plan{ch: ch, amount: gateway.Money(amount), subject: item.subject, created: created, imported: true}
				p.no = s.newNo(created)
				if s.rng.IntN(20) != 0 { // one in twenty is abandoned at checkout
					p.paid = created.Add(time.Duration(5+s.rng.IntN(110)) * time.Second)
				}
				p.charged = p.amount
				s.plans = append(s.plans, p)
			}
		}
	}
}

// pick returns a paid plan of the channel on the day that has no fault
// yet, scanning from a random place; when every one is taken (a tiny demo)
// it adds one, so seeding always ends.
func (s *seeder) pick(ch gateway.Channel, day time.Time) *plan {
	start, end := gateway.Day(day, s.zone)
	from := s.rng.IntN(len(s.plans))
	for i := range s.plans {
		p := s.plans[(from+i)%len(s.plans)]
		if p.ch == ch && !p.paid.IsZero() && !p.created.Before(start) && p.created.Before(end) &&
			!p.taken && p.charged == p.amount && p.imported && !p.late && p.paid.Before(end.Add(-time.Hour)) {
			p.taken = true
			return p
		}
	}
	created := start.Add(time.Duration(9+s.rng.IntN(10)) * time.Hour)
	p := &plan{ch: ch, amount: 2800, charged: 2800, subject: "拿铁 中杯", created: created, paid: created.Add(30 * time.Second),
		imported: true, taken: true}
	p.no = s.newNo(created)
	s.plans = append(s.plans, p)
	return p
}

func (s *seeder) add(f Fault) { s.faults = append(s.faults, f) }

// faultPlan marks the orders that carry the demo's faults.
func (s *seeder) faultPlan() (dupOf *plan, forged *plan, ghost *plan) {
	y := s.d.Yesterday
	for i := range 3 {
		ch := gateway.Channels[i%2]
		p := s.pick(ch, y)
		p.fault = sandbox.Fault{DropNotify: true}
		s.add(Fault{Name: "lost callback", Channel: ch, OutTradeNo: p.no, Day: y, Finding: "UNPAID_LOCAL"})
	}
	p := s.pick(gateway.WeChat, y)
	p.fault, p.query = sandbox.Fault{DropNotify: true}, true
	s.add(Fault{Name: "lost callback, found by a live query", Channel: gateway.WeChat, OutTradeNo: p.no, Day: y, Finding: "NOTIFY_MISSING"})

	p = s.pick(gateway.Alipay, y)
	p.charged = p.amount - 100 // the checkout sent the platform a stale price
	s.add(Fault{Name: "amount mismatch", Channel: gateway.Alipay, OutTradeNo: p.no, Day: y, Callback: store.ApplyAmountMismatch, Finding: "AMOUNT_MISMATCH"})

	p = s.pick(gateway.WeChat, y)
	p.imported = false // the platform was paid for an order we never had
	s.add(Fault{Name: "payment for an unknown order", Channel: gateway.WeChat, OutTradeNo: p.no, Day: y, Callback: store.ApplyUnknownOrder, Finding: "MISSING_LOCAL"})

	p = s.pick(gateway.Alipay, y)
	p.imported, p.late = false, true
	s.add(Fault{Name: "failed callback waiting for replay", Channel: gateway.Alipay, OutTradeNo: p.no, Day: y, Callback: store.ApplyUnknownOrder, Finding: "UNPAID_LOCAL"})

	dupOf = s.pick(gateway.Alipay, y)
	s.add(Fault{Name: "duplicate payment across channels", Channel: gateway.WeChat, OutTradeNo: dupOf.no, Day: y, Finding: "DUPLICATE_PAYMENT"})

	forged = s.pickUnpaid(gateway.Alipay, y)
	s.add(Fault{Name: "forged callback", Channel: gateway.Alipay, OutTradeNo: forged.no, Day: y, Callback: store.ApplyRejected})

	// Paid two seconds before midnight, booked by the platform after it.
	before := s.d.Yesterday.Add(-20 * time.Second)
	mid := &plan{ch: gateway.Alipay, amount: 4280, charged: 4280, subject: "生日蛋糕 6寸", created: before, paid: before.Add(18 * time.Second), imported: true,
		fault: sandbox.Fault{BookLate: 9 * time.Second}}
	mid.no = s.newNo(before)
	s.plans = append(s.plans, mid)
	s.add(Fault{Name: "payment just before midnight", Channel: gateway.Alipay, OutTradeNo: mid.no, Day: y.AddDate(0, 0, -1), Finding: "CROSS_DAY"})

	gt := y.Add(16*time.Hour + 42*time.Minute)
	ghost = &plan{ch: gateway.Alipay, amount: 9900, charged: 9900, subject: "会员季卡", created: gt.Add(-time.Minute), paid: gt}
	ghost.no = s.newNo(ghost.created)
	s.add(Fault{Name: "paid locally, unknown to the platform", Channel: gateway.Alipay, OutTradeNo: ghost.no, Day: y, Finding: "MISSING_PLATFORM"})
	return dupOf, forged, ghost
}

func (s *seeder) pickUnpaid(ch gateway.Channel, day time.Time) *plan {
	start, end := gateway.Day(day, s.zone)
	for _, p := range s.plans {
		if p.ch == ch && p.paid.IsZero() && !p.created.Before(start) && p.created.Before(end) && p.imported {
			return p
		}
	}
	p := &plan{ch: ch, amount: 3300, charged: 3300, subject: "拿铁 中杯", created: start.Add(15 * time.Hour), imported: true}
	p.no = s.newNo(p.created)
	s.plans = append(s.plans, p)
	return p
}

func (s *seeder) run(ctx context.Context) error {
	s.opt.Progress("planning three business days of orders")
	s.planDays()
	dupOf, forged, ghost := s.faultPlan()

	s.opt.Progress(fmt.Sprintf("importing %d orders", len(s.plans)))
	if err := s.importOrders(ctx, "orders.csv", func(p *plan) bool { return p.imported }); err != nil {
		return err
	}
	if err := s.importGhost(ctx, ghost); err != nil {
		return err
	}

	s.opt.Progress("paying them at the simulated platforms")
	paying := make([]*plan, 0, len(s.plans))
	for _, p := range s.plans {
		if !p.paid.IsZero() {
			paying = append(paying, p)
		}
	}
	sort.Slice(paying, func(i, j int) bool { return paying[i].paid.Before(paying[j].paid) })
	queryLater := ""
	for _, p := range paying {
		if p.query {
			queryLater = p.no
		}
		if p.fault != (sandbox.Fault{}) {
			s.d.Sandbox.SetFault(p.ch, p.no, p.fault)
		}
		if _, err := s.d.Sandbox.CreateTrade(sandbox.TradeSpec{Channel: p.ch, OutTradeNo: p.no, Amount: p.charged, Subject: p.subject, CreatedAt: p.created}); err != nil {
			return err
		}
		if _, err := s.d.Sandbox.Pay(p.ch, p.no, p.paid); err != nil {
			return err
		}
	}
	if err := s.forge(ctx, forged); err != nil {
		return err
	}
	if err := s.waitDelivered(ctx); err != nil {
		return err
	}

	// The second payment of an order already paid on the other channel.
	if _, err := s.d.Sandbox.CreateTrade(sandbox.TradeSpec{Channel: gateway.WeChat, OutTradeNo: dupOf.no, Amount: dupOf.amount, Subject: dupOf.subject, CreatedAt: dupOf.created}); err != nil {
		return err
	}
	if _, err := s.d.Sandbox.Pay(gateway.WeChat, dupOf.no, dupOf.paid.Add(2*time.Minute)); err != nil {
		return err
	}
	// The order whose callback failed arrives in the system afterwards.
	if err := s.importOrders(ctx, "orders-late.csv", func(p *plan) bool { return p.late }); err != nil {
		return err
	}
	if queryLater != "" {
		if _, err := s.svc.QueryTrade(ctx, queryLater); err != nil {
			return err
		}
	}

	s.opt.Progress("refunding a few orders")
	if err := s.refunds(ctx); err != nil {
		return err
	}
	if err := s.waitDelivered(ctx); err != nil {
		return err
	}
	s.d.Sandbox.ClearFaults()

	s.opt.Progress("reconciling the days before yesterday")
	for back := 3; back >= 2; back-- {
		for _, ch := range gateway.Channels {
			if _, err := s.svc.RunRecon(ctx, ops.ReconRequest{Channel: ch, Day: s.today.AddDate(0, 0, -back)}, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *seeder) waitDelivered(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return s.d.Sandbox.WaitDelivered(ctx)
}

func (s *seeder) importOrders(ctx context.Context, name string, want func(*plan) bool) error {
	var b strings.Builder
	b.WriteString("out_trade_no,channel,amount,subject,created_at\n")
	n := 0
	for _, p := range s.plans {
		if want(p) {
			fmt.Fprintf(&b, "%s,%s,%s,%s,%s\n", p.no, p.ch, p.amount, p.subject, p.created.In(s.zone).Format(time.DateTime))
			n++
		}
	}
	if n == 0 {
		return nil
	}
	path := filepath.Join(s.d.Dir, name)
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return err
	}
	_, err := s.svc.ImportOrders(ctx, path)
	return err
}

// importGhost imports an order as already PAID that no platform knows: what
// a faulty migration or a hand-edited export leaves behind.
func (s *seeder) importGhost(ctx context.Context, p *plan) error {
	path := filepath.Join(s.d.Dir, "orders-migrated.csv")
	csv := fmt.Sprintf("out_trade_no,channel,amount,subject,created_at,status,trade_no,paid_at\n%s,%s,%s,%s,%s,PAID,%s,%s\n",
		p.no, p.ch, p.amount, p.subject, p.created.In(s.zone).Format(time.DateTime),
		p.paid.In(s.zone).Format("20060102")+"22001400999999999999", p.paid.In(s.zone).Format(time.DateTime))
	if err := os.WriteFile(path, []byte(csv), 0o600); err != nil {
		return err
	}
	_, err := s.svc.ImportOrders(ctx, path)
	return err
}

// forge posts an Alipay callback for an unpaid order signed with a key
// that is not Alipay's: what someone who wants goods for free sends.
func (s *seeder) forge(ctx context.Context, p *plan) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	k := s.d.Workspace.Config.Alipay
	at := p.created.Add(time.Minute).In(s.zone).Format(time.DateTime)
	form := url.Values{
		"notify_time": {at}, "notify_type": {"trade_status_sync"}, "notify_id": {"forged" + p.no}, "app_id": {k.AppID},
		"charset": {"utf-8"}, "version": {"1.0"}, "sign_type": {"RSA2"}, "trade_no": {p.created.In(s.zone).Format("20060102") + "22001499999999999999"},
		"out_trade_no": {p.no}, "trade_status": {"TRADE_SUCCESS"}, "total_amount": {p.amount.String()}, "gmt_payment": {at},
	}
	keys := make([]string, 0, len(form))
	for k := range form {
		if k != "sign_type" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + form.Get(k)
	}
	sum := sha256.Sum256([]byte(strings.Join(parts, "&")))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return err
	}
	form.Set("sign", base64.StdEncoding.EncodeToString(sig))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.d.ServeURL+"/notify/alipay", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// refunds makes a few refunds on each day through paydesk (the platform's
// clock set to that day), and two made in the platform's console yesterday:
// one whose notification arrives, one whose notification is lost.
func (s *seeder) refunds(ctx context.Context) error {
	defer s.clock.Store(nil)
	for back := 3; back >= 1; back-- {
		day := s.today.AddDate(0, 0, -back)
		for i := range 4 {
			ch := gateway.Channels[i%2]
			p := s.pick(ch, day)
			at := p.paid.Add(time.Duration(20+i*7) * time.Minute)
			s.clock.Store(&at)
			amount := p.amount
			if i%2 == 1 {
				amount = p.amount / 2
			}
			if _, err := s.svc.Refund(ctx, p.no, amount, []string{"顾客取消订单", "商品破损", "重复下单", "服务未完成"}[i]); err != nil {
				return fmt.Errorf("refund %s: %w", p.no, err)
			}
		}
	}
	y := s.d.Yesterday
	seen := s.pick(gateway.Alipay, y)
	lost := s.pick(gateway.WeChat, y)
	s.d.Sandbox.SetFault(gateway.WeChat, lost.no, sandbox.Fault{DropNotify: true})
	for _, c := range []struct {
		p   *plan
		at  time.Time
		out Fault
	}{
		{seen, seen.paid.Add(40 * time.Minute), Fault{Name: "refund made in the platform console", Channel: gateway.Alipay, OutTradeNo: seen.no, Day: y, Callback: store.ApplyReview, Refund: true}},
		{lost, lost.paid.Add(45 * time.Minute), Fault{Name: "refund only the platform knows (its callback lost)", Channel: gateway.WeChat, OutTradeNo: lost.no, Day: y, Finding: "REFUND_MISMATCH", Refund: true}},
	} {
		if _, err := s.d.Sandbox.ConsoleRefund(sandbox.RefundSpec{Channel: c.p.ch, OutTradeNo: c.p.no, Amount: c.p.amount / 2, Reason: "客服后台退款", At: c.at}); err != nil {
			return err
		}
		s.add(c.out)
	}
	return nil
}
