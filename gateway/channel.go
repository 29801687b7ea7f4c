package gateway

import (
	"fmt"
	"strings"
)

// Channel names a payment platform.
type Channel string

const (
	Alipay Channel = "alipay"
	WeChat Channel = "wechat"
)

// Channels lists every supported platform in display order.
var Channels = []Channel{Alipay, WeChat}

// ParseChannel accepts a channel name as users type it ("alipay", "wechat",
// also "WeChat" or "weixin").
func ParseChannel(s string) (Channel, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "alipay":
		return Alipay, nil
	case "wechat", "weixin", "wechatpay":
		return WeChat, nil
	}
	return "", fmt.Errorf("unknown channel %q (want alipay or wechat)", s)
}

func (c Channel) String() string { return string(c) }

// DisplayName is the platform's name as people write it, for sentences
// and report titles ("Alipay booked …", "Reconciliation of WeChat Pay …");
// the channel itself ("alipay") is what is typed and stored.
func (c Channel) DisplayName() string {
	switch c {
	case Alipay:
		return "Alipay"
	case WeChat:
		return "WeChat Pay"
	}
	return string(c)
}
