package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/store"
)

// orderFilterFlags are the flags that select orders, the same for
// `orders list` and `export orders` so a filter tried on the one gives the
// same rows on the other.
type orderFilterFlags struct {
	status, channel, since, until, number string
}

func (o *orderFilterFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&o.status, "status", "", "PENDING, PAID, PARTIALLY_REFUNDED, REFUNDED or CLOSED")
	fl.StringVar(&o.channel, "channel", "", "alipay or wechat")
	fl.StringVar(&o.since, "since", "", "created on or after this date (YYYY-MM-DD, business zone) or RFC 3339 time")
	fl.StringVar(&o.until, "until", "", "created before this date or time")
	fl.StringVar(&o.number, "number", "", "prefix of the merchant order number or the platform trade number")
}

// filter parses the flags; dates are days in the business zone.
func (o *orderFilterFlags) filter(zone *time.Location) (store.OrderFilter, error) {
	f := store.OrderFilter{Number: o.number}
	var err error
	if o.status != "" {
		if f.Status, err = store.ParseOrderStatus(o.status); err != nil {
			return f, usageError{fmt.Errorf("--status: %w", err)}
		}
	}
	if f.Channel, err = parseChannelFlag(o.channel); err != nil {
		return f, err
	}
	if f.Since, err = parseDay("since", o.since, zone); err != nil {
		return f, err
	}
	if f.Until, err = parseDay("until", o.until, zone); err != nil {
		return f, err
	}
	return f, nil
}

// notificationFilterFlags are the flags that select stored callbacks, for
// `notify list` and `export notifications`.
type notificationFilterFlags struct {
	failed         bool
	since, channel string
}

// add registers the flags; failedHelp says what --failed keeps in the
// command's own words.
func (n *notificationFilterFlags) add(cmd *cobra.Command, failedHelp string) {
	fl := cmd.Flags()
	fl.BoolVar(&n.failed, "failed", false, failedHelp)
	fl.StringVar(&n.since, "since", "", "received on or after this date (YYYY-MM-DD) or time")
	fl.StringVar(&n.channel, "channel", "", "alipay or wechat")
}

func (n *notificationFilterFlags) filter(zone *time.Location) (store.NotificationFilter, error) {
	f := store.NotificationFilter{Failed: n.failed}
	var err error
	if f.Since, err = parseDay("since", n.since, zone); err != nil {
		return f, err
	}
	if f.Channel, err = parseChannelFlag(n.channel); err != nil {
		return f, err
	}
	return f, nil
}

// parseChannelFlag reads --channel; empty means every channel.
func parseChannelFlag(v string) (gateway.Channel, error) {
	if v == "" {
		return "", nil
	}
	ch, err := gateway.ParseChannel(v)
	if err != nil {
		return "", usageError{fmt.Errorf("--channel: %w", err)}
	}
	return ch, nil
}
