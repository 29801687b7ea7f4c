// Package sandbox simulates Alipay and WeChat Pay over real HTTP: one
// listener serving both platforms' APIs with their own keys, signed requests
// checked and responses signed exactly as the platforms do it, refunds with
// ceilings and request-number idempotency, bills in the real formats, and
// notifications delivered with retries until acknowledged. Faults can be
// injected per trade or per channel.
//
// It is the platform of the demo and of every test; the official clients
// (smartwalle/alipay, wechatpay-go) must accept it, not only paydesk's code.
package sandbox
