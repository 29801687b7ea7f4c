package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// TradeQuery is one live query of a trade and what the platform answered.
type TradeQuery struct {
	ID            int64              `json:"-"`
	Channel       gateway.Channel    `json:"channel"`
	OutTradeNo    string             `json:"out_trade_no"`
	At            time.Time          `json:"at"`
	Operator      string             `json:"operator,omitempty"`
	State         gateway.TradeState `json:"state,omitempty"`
	PlatformState string             `json:"platform_state,omitempty"`
	TradeNo       string             `json:"trade_no,omitempty"`
	Amount        *gateway.Money     `json:"amount,omitempty"`
	Latency       time.Duration      `json:"latency_ms"`
	Error         string             `json:"error,omitempty"`
	Raw           []byte             `json:"-"`
}

// RecordTradeQuery logs a live query.
func (s *Store) RecordTradeQuery(ctx context.Context, q TradeQuery) error {
	var amount any
	if q.Amount != nil {
		amount = int64(*q.Amount)
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO trade_queries (channel, out_trade_no, at, operator, state, platform_state, trade_no, amount, latency_ms, error, raw)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		q.Channel, q.OutTradeNo, ms(q.At), q.Operator, q.State, q.PlatformState, q.TradeNo, amount, q.Latency.Milliseconds(), q.Error, q.Raw)
	return err
}

const tradeQueryColumns = `id, channel, out_trade_no, at, operator, state, platform_state, trade_no, amount, latency_ms, error`

func scanTradeQuery(r rowScanner) (TradeQuery, error) {
	var q TradeQuery
	var at, latency int64
	var amount sql.NullInt64
	err := r.Scan(&q.ID, &q.Channel, &q.OutTradeNo, &at, &q.Operator, &q.State, &q.PlatformState, &q.TradeNo, &amount, &latency, &q.Error)
	q.At, q.Latency = fromMS(at), time.Duration(latency)*time.Millisecond
	if amount.Valid {
		m := gateway.Money(amount.Int64)
		q.Amount = &m
	}
	return q, err
}

// TradeQueries lists one order's queries, oldest first.
func (s *Store) TradeQueries(ctx context.Context, outTradeNo string) ([]TradeQuery, error) {
	return collect(ctx, s.r, `SELECT `+tradeQueryColumns+` FROM trade_queries WHERE out_trade_no = ? ORDER BY at, id`, scanTradeQuery, outTradeNo)
}

// LatestTradeQueries returns the newest query of each listed order that has
// one: what the console shows as "platform status" beside a page of orders.
func (s *Store) LatestTradeQueries(ctx context.Context, outTradeNos []string) (map[string]TradeQuery, error) {
	out := map[string]TradeQuery{}
	if len(outTradeNos) == 0 {
		return out, nil
	}
	ph := strings.TrimSuffix(strings.Repeat("?,", len(outTradeNos)), ",")
	args := make([]any, len(outTradeNos))
	for i, n := range outTradeNos {
		args[i] = n
	}
	// The correlated max(id) per order walks the (out_trade_no, at) index
	// once per listed order.
	err := eachRow(ctx, s.r, `SELECT `+tradeQueryColumns+` FROM trade_queries q
		WHERE q.out_trade_no IN (`+ph+`)
		AND q.id = (SELECT max(id) FROM trade_queries WHERE out_trade_no = q.out_trade_no)`, func(rows *sql.Rows) error {
		q, err := scanTradeQuery(rows)
		out[q.OutTradeNo] = q
		return err
	}, args...)
	return out, err
}

// LatestNotifyStatus returns, for each listed order that has notifications,
// the apply status of its newest one: the console's callback column.
func (s *Store) LatestNotifyStatus(ctx context.Context, outTradeNos []string) (map[string]ApplyStatus, error) {
	out := map[string]ApplyStatus{}
	if len(outTradeNos) == 0 {
		return out, nil
	}
	ph := strings.TrimSuffix(strings.Repeat("?,", len(outTradeNos)), ",")
	args := make([]any, len(outTradeNos))
	for i, n := range outTradeNos {
		args[i] = n
	}
	err := eachRow(ctx, s.r, `SELECT n.out_trade_no, n.apply_status FROM notifications n
		WHERE n.out_trade_no IN (`+ph+`)
		AND n.id = (SELECT max(id) FROM notifications WHERE out_trade_no = n.out_trade_no)`, func(rows *sql.Rows) error {
		var no string
		var st ApplyStatus
		err := rows.Scan(&no, &st)
		out[no] = st
		return err
	}, args...)
	return out, err
}
