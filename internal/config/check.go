package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// check refuses values that cannot be meant, naming the key, before
// anything reads them: a negative rate or a gateway that is not a web
// address would otherwise surface later as a confusing failure, or never.
func (c *Config) check() error {
	var errs []error
	bad := func(key string, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, a...)))
	}
	if _, err := time.LoadLocation(c.Zone); err != nil {
		bad("zone", "%q is not a time zone (e.g. Asia/Shanghai)", c.Zone)
	}
	if q := c.Query.QPS; q < 0 || math.IsNaN(q) || math.IsInf(q, 0) {
		bad("[query] qps", "%v: want a positive number of queries per second (default 10)", q)
	}
	if c.Query.Concurrency < 0 {
		bad("[query] concurrency", "%d: want a positive number (default 4)", c.Query.Concurrency)
	}
	if c.Recon.SuspenseDays < 0 {
		bad("[recon] suspense_days", "%d: want a positive number of days (default 3)", c.Recon.SuspenseDays)
	}
	c.Recon.FeeRates = map[gateway.Channel]gateway.FeeRate{}
	for _, r := range []struct {
		key, v string
		ch     gateway.Channel
	}{{"[recon] fee_rate_alipay", c.Recon.FeeRateAlipay, gateway.Alipay}, {"[recon] fee_rate_wechat", c.Recon.FeeRateWeChat, gateway.WeChat}} {
		if r.v == "" {
			continue // no contracted rate: fees are not checked
		}
		if rate, err := gateway.ParseFeeRate(r.v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w (a decimal rate between 0 and 1)", r.key, err))
		} else {
			c.Recon.FeeRates[r.ch] = rate
		}
	}
	if m, err := gateway.ParseMoney(c.Refund.ConfirmAbove); err != nil {
		bad("[refund] confirm_above", "%q: want yuan like \"1000.00\" (\"0\": confirm every refund by its order number)", c.Refund.ConfirmAbove)
	} else if m < 0 {
		bad("[refund] confirm_above", "%q is negative", c.Refund.ConfirmAbove)
	} else {
		c.Refund.Threshold = m
	}
	if c.Serve.MaxBodyBytes < 0 {
		bad("[serve] max_body_bytes", "%d is negative", c.Serve.MaxBodyBytes)
	}
	if c.Serve.UnverifiedBytesPerMinute < 0 {
		bad("[serve] unverified_bytes_per_minute", "%d is negative", c.Serve.UnverifiedBytesPerMinute)
	}
	if c.Serve.UnverifiedRowsPerMinute < 0 {
		bad("[serve] unverified_rows_per_minute", "%d is negative", c.Serve.UnverifiedRowsPerMinute)
	}
	if _, _, err := net.SplitHostPort(c.Serve.Listen); err != nil {
		bad("[serve] listen", "%q: want host:port, e.g. 127.0.0.1:8080", c.Serve.Listen)
	}
	var err error
	if c.Serve.Allowed, err = parsePrefixes("[serve] allowed_cidrs", c.Serve.AllowedCIDRs); err != nil {
		errs = append(errs, err)
	}
	if c.Serve.Proxies, err = parsePrefixes("[serve] trusted_proxies", c.Serve.TrustedProxies); err != nil {
		errs = append(errs, err)
	}
	if a := c.Alipay; a != nil {
		errs = append(errs, checkURL("[alipay] gateway", a.Gateway), checkURL("[alipay] mapi_gateway", a.MapiGateway))
	}
	if w := c.WeChat; w != nil {
		errs = append(errs, checkURL("[wechat] base_url", w.BaseURL), checkURL("[wechat] refund_notify_url", w.RefundNotifyURL))
	}
	return errors.Join(errs...)
}

// checkURL accepts an absolute http or https address (empty: the key's
// default applies). Every key that names a web address goes through it.
func checkURL(key, s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s: %q: want an http:// or https:// address", key, s)
	}
	return nil
}

// parsePrefixes reads address ranges: CIDRs, or single addresses.
func parsePrefixes(key string, in []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, c := range in {
		c = strings.TrimSpace(c)
		if p, err := netip.ParsePrefix(c); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(c)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is neither a CIDR nor an address", key, c)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
