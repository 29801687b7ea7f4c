package ops

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/store"
)

// QueryResult is the outcome of one live trade query.
type QueryResult struct {
	OutTradeNo string          `json:"out_trade_no"`
	Channel    gateway.Channel `json:"channel"`
	Trade      *gateway.Trade  `json:"trade,omitempty"`
	Local      store.Order     `json:"local"`
	// Applied: the query proved a payment the store lacked, and the order
	// is now PAID (paid_via query).
	Applied bool `json:"applied"`
	// Disagrees: the platform contradicts the local status in a way the
	// query does not fix by itself (a refund or close the store lacks, a
	// local payment the platform does not know).
	Disagrees bool          `json:"disagrees"`
	Note      string        `json:"note,omitempty"`
	Latency   time.Duration `json:"latency_ns"`
	Err       string        `json:"error,omitempty"`
}

// QueryTrade asks the platform for the live state of one order, logs the
// answer, applies the paid transition when the platform proves payment
// (ARCHITECTURE.md §3 rule 2: a live query is as good as a verified notification), and reports
// any other disagreement without applying it.
func (s *Service) QueryTrade(ctx context.Context, outTradeNo string) (QueryResult, error) {
	if err := s.allow(ctx, ActQuery, outTradeNo); err != nil {
		return QueryResult{OutTradeNo: outTradeNo}, err
	}
	r := QueryResult{OutTradeNo: outTradeNo}
	o, err := s.store.GetOrder(ctx, outTradeNo)
	if err == nil {
		r, err = s.queryTrade(ctx, o)
	}
	detail := r.Note
	if r.Trade != nil {
		detail = fmt.Sprintf("platform %s; %s", r.Trade.PlatformState, r.Note)
	}
	s.auditResult(ctx, ActQuery, outTradeNo, detail, err)
	return r, err
}

// queryTrade queries the platform about a local order.
func (s *Service) queryTrade(ctx context.Context, o store.Order) (QueryResult, error) {
	outTradeNo := o.OutTradeNo
	res := QueryResult{OutTradeNo: outTradeNo, Local: o, Channel: o.Channel}
	p, ok := s.platforms[o.Channel]
	if !ok {
		return res, fmt.Errorf("%s is not configured in paydesk.toml; cannot query %s", o.Channel, outTradeNo)
	}
	if err := s.queryLimits[o.Channel].Wait(ctx); err != nil {
		return res, err
	}
	start := time.Now()
	t, qerr := p.QueryTrade(ctx, outTradeNo)
	res.Latency = time.Since(start)
	log := store.TradeQuery{Channel: o.Channel, OutTradeNo: outTradeNo, At: s.now(), Operator: s.operator.Name, Latency: res.Latency}
	switch {
	case errors.Is(qerr, gateway.ErrTradeNotFound):
		log.PlatformState, log.Error = PlatformNotFound, qerr.Error()
	case qerr != nil:
		log.Error = qerr.Error()
	default:
		amount := t.Amount
		log.State, log.PlatformState, log.TradeNo, log.Amount, log.Raw = t.State, t.PlatformState, t.TradeNo, &amount, t.Raw
		res.Trade = &t
	}
	if err := s.store.RecordTradeQuery(context.WithoutCancel(ctx), log); err != nil {
		s.log.Error("trade query not logged", "out_trade_no", outTradeNo, "err", err)
	}
	if errors.Is(qerr, gateway.ErrTradeNotFound) {
		res.Disagrees = Disagrees(o, log)
		res.Note = "the platform has no such trade"
		if res.Disagrees {
			res.Note += " although it is paid locally (suspect a forged callback)"
		}
		return res, nil
	}
	if qerr != nil {
		res.Err = qerr.Error()
		return res, qerr
	}
	var err error
	res.Note, res.Applied, err = s.reconcileQuery(ctx, o, t)
	if res.Applied {
		if o2, err := s.store.GetOrder(ctx, outTradeNo); err == nil {
			res.Local = o2
		}
	}
	// The same verdict the order listing shows beside this query.
	res.Disagrees = Disagrees(res.Local, log)
	return res, err
}

// reconcileQuery applies the paid transition a live answer proves, and
// says in a sentence how the answer compares with the local order.
func (s *Service) reconcileQuery(ctx context.Context, o store.Order, t gateway.Trade) (note string, applied bool, err error) {
	switch {
	case t.IsPaid() && !o.Status.IsPaid():
		r, err := s.store.MarkPaid(ctx, store.Payment{OutTradeNo: o.OutTradeNo, Channel: o.Channel, TradeNo: t.TradeNo,
			Amount: t.Amount, PaidAt: t.PaidAt, Via: store.ViaQuery, Currency: t.Currency}, s.now())
		switch {
		case errors.Is(err, store.ErrAmountMismatch):
			return fmt.Sprintf("the platform says paid %s %s but the order is %s %s: not applied", t.Amount, t.Currency, o.Amount, o.Currency), false, nil
		case err != nil:
			return "", false, err
		case r.Outcome == store.PaymentApplied:
			note = "paid at the platform: order marked PAID"
			if t.State == gateway.TradeRefunded {
				note += "; the platform also shows a refund the store lacks"
			}
			return note, true, nil
		}
		return "already paid", false, nil
	case o.Status.IsPaid() && !t.IsPaid():
		return fmt.Sprintf("paid locally but %s at the platform", t.PlatformState), false, nil
	case o.Status.IsPaid() && t.TradeNo != "" && o.TradeNo != "" && t.TradeNo != o.TradeNo:
		return fmt.Sprintf("the platform's trade %s is not the local %s", t.TradeNo, o.TradeNo), false, nil
	case t.State == gateway.TradeRefunded && o.Refunded == 0:
		return "the platform shows a refund the store lacks: review, not applied", false, nil
	case t.State == gateway.TradeClosed && o.Status == store.OrderPending:
		return "closed at the platform, still pending here", false, nil
	}
	return "agrees", false, nil
}

// defaultQueryQPS is [query] qps's default.
const defaultQueryQPS = 10

// QueryOptions bound a bulk query.
type QueryOptions struct {
	Concurrency int // at most this many queries in flight; default 4
	// QPS paces this run per platform (default 10), below the service's
	// shared limit, which holds across every session whatever this says.
	QPS      float64
	Progress func(done, total int, last QueryResult)
}

// QueryTrades queries many orders with bounded concurrency and each
// platform's rate limit, reporting progress after each. Every query is
// logged and audited like QueryTrade.
func (s *Service) QueryTrades(ctx context.Context, nos []string, opt QueryOptions) ([]QueryResult, error) {
	if err := s.allow(ctx, ActQuery, fmt.Sprintf("%d orders", len(nos))); err != nil {
		return nil, err
	}
	if opt.Concurrency <= 0 {
		opt.Concurrency = 4
	}
	if opt.QPS <= 0 {
		opt.QPS = defaultQueryQPS
	}
	limiters := map[gateway.Channel]*rate.Limiter{}
	for ch := range s.platforms {
		limiters[ch] = rate.NewLimiter(rate.Limit(opt.QPS), 1)
	}
	results := make([]QueryResult, len(nos))
	var mu sync.Mutex
	done := 0
	sem := make(chan struct{}, opt.Concurrency)
	var wg sync.WaitGroup
	for i, no := range nos {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return results, ctx.Err()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r := s.limitedQuery(ctx, no, limiters)
			mu.Lock()
			results[i] = r
			done++
			d := done
			mu.Unlock()
			if opt.Progress != nil {
				opt.Progress(d, len(nos), r)
			}
		}()
	}
	wg.Wait()
	return results, ctx.Err()
}

func (s *Service) limitedQuery(ctx context.Context, no string, limiters map[gateway.Channel]*rate.Limiter) QueryResult {
	o, err := s.store.GetOrder(ctx, no)
	if err != nil {
		s.auditResult(ctx, ActQuery, no, "", err)
		return QueryResult{OutTradeNo: no, Err: err.Error()}
	}
	if l := limiters[o.Channel]; l != nil {
		if err := l.Wait(ctx); err != nil {
			return QueryResult{OutTradeNo: no, Channel: o.Channel, Err: err.Error()}
		}
	}
	r, err := s.queryTrade(ctx, o)
	detail := r.Note
	if r.Trade != nil {
		detail = fmt.Sprintf("platform %s; %s", r.Trade.PlatformState, r.Note)
	}
	s.auditResult(ctx, ActQuery, no, detail, err)
	if err != nil && r.Err == "" {
		r.Err = err.Error()
	}
	return r
}

// PendingOrders lists the numbers of every PENDING order, oldest first
// (what `paydesk query --pending` asks the platforms about).
func (s *Service) PendingOrders(ctx context.Context, f store.OrderFilter) ([]string, error) {
	if err := s.allow(ctx, ActRead, ""); err != nil {
		return nil, err
	}
	f.Status = store.OrderPending
	var out []string
	var cur *store.Cursor
	for {
		p, err := s.store.ListOrders(ctx, f, cur, store.Older, 5000)
		if err != nil {
			return nil, err
		}
		for _, o := range p.Orders {
			out = append(out, o.OutTradeNo)
		}
		if len(p.Orders) < 5000 {
			break
		}
		cur = &p.Last
	}
	return out, nil
}
