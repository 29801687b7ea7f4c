package sandbox

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// EventKind is what a notification reports.
type EventKind string

const (
	EventPaid     EventKind = "PAID"
	EventRefunded EventKind = "REFUNDED"
	// EventRefundAbnormal and EventRefundClosed are WeChat's REFUND.ABNORMAL
	// and REFUND.CLOSED.
	EventRefundAbnormal EventKind = "REFUND_ABNORMAL"
	EventRefundClosed   EventKind = "REFUND_CLOSED"
)

// Event is one thing the platform notifies the merchant about. Fault holds
// the notification faults in force when the event happened.
type Event struct {
	Kind   EventKind
	Trade  *Trade
	Refund *Refund // refund events only
	Fault  Fault
	// ID is the notification id (Alipay notify_id, WeChat envelope id).
	ID string
}

// Delivery is the record of one notification being delivered.
type Delivery struct {
	Channel    gateway.Channel
	Event      EventKind
	OutTradeNo string
	URL        string
	Attempts   int
	Acked      bool
	GaveUp     bool
	Dropped    bool // DropNotify: never sent
	LastStatus int
	LastError  string
}

type deliveryLog struct {
	mu      sync.Mutex
	all     []*Delivery
	open    int
	changed chan struct{} // closed and replaced whenever open changes
}

func defaultRetryDelays(ch gateway.Channel) []time.Duration {
	m, h := time.Minute, time.Hour
	if ch == gateway.Alipay {
		return []time.Duration{4 * m, 10 * m, 10 * m, h, 2 * h, 6 * h, 15 * h}
	}
	s := time.Second
	return []time.Duration{15 * s, 15 * s, 30 * s, 3 * m, 10 * m, 20 * m, 30 * m, 30 * m, 30 * m, h, 3 * h, 3 * h, 3 * h, 6 * h, 6 * h}
}

// url is where an event's notification goes: a refund's own notify URL
// when its request gave one ("如果参数中传了notify_url，则商户平台上配置的回调地址将不会
// 生效，优先回调当前传的这个地址", WeChat's 申请退款), else the trade's.
func (ev Event) url() string {
	if ev.Refund != nil && ev.Refund.NotifyURL != "" {
		return ev.Refund.NotifyURL
	}
	return ev.Trade.NotifyURL
}

// notify starts delivering an event's notification (and its duplicates) in
// the background, with the fault of the trade at this moment.
func (s *Server) notify(ev Event) {
	ev.Fault = s.fault(ev.Trade.Channel, ev.Trade.OutTradeNo)
	if ev.ID == "" {
		ev.ID = s.randDigits(24)
	}
	copies := 1 + ev.Fault.DuplicateNotify
	for range copies {
		d := &Delivery{Channel: ev.Trade.Channel, Event: ev.Kind, OutTradeNo: ev.Trade.OutTradeNo, URL: ev.url()}
		s.deliveries.add(d)
		if ev.Fault.DropNotify || d.URL == "" {
			d.Dropped = true
			s.deliveries.done(d, func(d *Delivery) {})
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.deliver(d, ev)
		}()
	}
}

// deliver posts the notification until the merchant acknowledges it or the
// retry schedule runs out. Each attempt is built afresh, as the platforms do
// (WeChat signs every attempt with a new timestamp and nonce).
func (s *Server) deliver(d *Delivery, ev Event) {
	sd := s.sides[ev.Trade.Channel]
	delays := s.cfg.RetryDelays[ev.Trade.Channel]
	if delays == nil {
		delays = defaultRetryDelays(ev.Trade.Channel)
	}
	client := &http.Client{Timeout: s.cfg.DeliveryTimeout, Transport: s.notifyTransport}
	for attempt := 0; ; attempt++ {
		status, body, err := s.post(client, sd, d.URL, ev)
		acked := err == nil && sd.acknowledged(status, body)
		s.deliveries.update(d, func(d *Delivery) {
			d.Attempts++
			d.LastStatus = status
			d.LastError = ""
			if err != nil {
				d.LastError = err.Error()
			}
		})
		if acked {
			s.deliveries.done(d, func(d *Delivery) { d.Acked = true })
			return
		}
		if attempt >= len(delays) {
			s.deliveries.done(d, func(d *Delivery) { d.GaveUp = true })
			s.cfg.Logger.Warn("sandbox gave up a notification", "channel", d.Channel, "out_trade_no", d.OutTradeNo, "attempts", d.Attempts)
			return
		}
		select {
		case <-time.After(delays[attempt]):
		case <-s.ctx.Done():
			s.deliveries.done(d, func(d *Delivery) { d.GaveUp = true })
			return
		}
	}
}

func (s *Server) post(client *http.Client, sd side, url string, ev Event) (int, []byte, error) {
	header, body, err := sd.notification(ev)
	if err != nil {
		return 0, nil, err
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.DeliveryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, reply, err
}

func (l *deliveryLog) add(d *Delivery) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all = append(l.all, d)
	l.open++
	l.signalLocked()
}

func (l *deliveryLog) update(d *Delivery, f func(*Delivery)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f(d)
}

func (l *deliveryLog) done(d *Delivery, f func(*Delivery)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f(d)
	l.open--
	l.signalLocked()
}

func (l *deliveryLog) signalLocked() {
	if l.changed != nil {
		close(l.changed)
	}
	l.changed = make(chan struct{})
}

// Deliveries returns a copy of every delivery record so far.
func (s *Server) Deliveries() []Delivery {
	s.deliveries.mu.Lock()
	defer s.deliveries.mu.Unlock()
	out := make([]Delivery, len(s.deliveries.all))
	for i, d := range s.deliveries.all {
		out[i] = *d
	}
	return out
}

// WaitDelivered blocks until no notification is being delivered (each was
// acknowledged, dropped or given up) or ctx ends.
func (s *Server) WaitDelivered(ctx context.Context) error {
	for {
		s.deliveries.mu.Lock()
		open := s.deliveries.open
		if s.deliveries.changed == nil {
			s.deliveries.changed = make(chan struct{})
		}
		ch := s.deliveries.changed
		s.deliveries.mu.Unlock()
		if open == 0 {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
