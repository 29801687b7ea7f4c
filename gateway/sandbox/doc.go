// Package sandbox simulates Alipay and WeChat Pay over real HTTP: one
// listener serving both platforms' APIs with their own keys, signed requests
// checked and responses signed exactly as the platforms do it, refunds with
// ceilings and request-number idempotency, bills in the real formats, and
// notifications delivered with retries until acknowledged. Faults can be
// injected per trade or per channel.
//
// The legacy protocols are served too: WeChat Pay v2 (XML; refunds over
// mutual TLS, for which the one port also speaks HTTPS with a CA of the
// sandbox's own) and Alipay's mapi gateway (MD5 notifications,
// notify_verify).
//
// It is the platform of the demo and of every test; the official clients
// (smartwalle/alipay, wechatpay-go, gopay) must accept it, not only
// paydesk's code.
package sandbox
