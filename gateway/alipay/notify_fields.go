package alipay

import (
	"fmt"
	"net/http"

	"github.com/paydesk/paydesk/gateway"
)

// Field rules both gateways' notifications share (the OpenAPI's and the
// legacy mapi's trade_status_sync).

// requireFields refuses a notification that lacks one of names.
func requireFields(f map[string]string, names ...string) error {
	for _, need := range names {
		if f[need] == "" {
			return fmt.Errorf("%w: no %s", gateway.ErrMalformed, need)
		}
	}
	return nil
}

// yuanField reads an amount field, in yuan.
func yuanField(f map[string]string, name string) (gateway.Money, error) {
	m, err := gateway.ParseMoney(f[name])
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %w", gateway.ErrMalformed, name, err)
	}
	return m, nil
}

// tradeStatusEvent is what a trade_status reports: TRADE_SUCCESS and
// TRADE_FINISHED a payment, TRADE_CLOSED a close, anything else
// (WAIT_BUYER_PAY, statuses Alipay may add) nothing to apply.
func tradeStatusEvent(status string) gateway.Event {
	switch status {
	case "TRADE_SUCCESS", "TRADE_FINISHED":
		return gateway.EventPayment
	case "TRADE_CLOSED":
		return gateway.EventClosed
	}
	return gateway.EventOther
}

// notifyReply is the answer both gateways expect: the plain text "success"
// ends the retries, anything else ("fail") makes Alipay send again.
func notifyReply(err error) gateway.Reply {
	body := "success"
	if err != nil {
		body = "fail"
	}
	return gateway.Reply{Status: http.StatusOK, ContentType: "text/plain; charset=utf-8", Body: []byte(body)}
}
