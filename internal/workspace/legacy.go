package workspace

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/alipay"
	"github.com/paydesk/paydesk/gateway/wechat"
	"github.com/paydesk/paydesk/internal/config"
)

// legacyPlatforms adds the legacy protocols to the platforms the new APIs
// made: WeChat Pay v2 beside (or instead of) APIv3, and Alipay's mapi
// partner beside (or instead of) the OpenAPI app. A merchant with only the
// new APIs keeps its clients as they are.
func legacyPlatforms(cfg *config.Config, zone *time.Location, hc *http.Client, out map[gateway.Channel]gateway.Platform) error {
	if w := cfg.WeChat; w != nil {
		p, err := wechatPlatform(w, out[gateway.WeChat], zone, hc)
		if err != nil {
			return fmt.Errorf("config [wechat]: %w", err)
		}
		out[gateway.WeChat] = p
	}
	if a := cfg.Alipay; a != nil {
		p, err := alipayPlatform(a, out[gateway.Alipay], zone, hc)
		if err != nil {
			return fmt.Errorf("config [alipay]: %w", err)
		}
		out[gateway.Alipay] = p
	}
	return nil
}

// wechatPlatform is the merchant's WeChat platform: the APIv3 client
// alone, or a wechat.Merchant when a v2 API key is configured (v2 callbacks
// verify; with api = "v2" the calls go through v2).
func wechatPlatform(w *config.WeChat, v3 gateway.Platform, zone *time.Location, hc *http.Client) (gateway.Platform, error) {
	if !w.UsesV2() {
		return v3, nil
	}
	var cert, key []byte
	if w.APIClientCertFile != "" {
		cert, key = w.APIClientCert, w.PrivateKey
	}
	var roots *x509.CertPool // [wechat] server_ca_file: the sandbox's HTTPS
	if len(w.ServerCA) > 0 {
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(w.ServerCA) {
			return nil, errors.New("server_ca_file holds no PEM certificate")
		}
	}
	v2, err := wechat.NewV2(wechat.V2Config{MchID: w.MchID, AppID: w.AppID, APIKey: string(w.APIKey), SignType: w.SignType,
		CertPEM: cert, KeyPEM: key, BaseURL: w.BaseURL, RootCAs: roots, RefundNotifyURL: w.RefundNotifyURL, HTTPClient: hc, Zone: zone})
	if err != nil {
		return nil, err
	}
	return wechat.NewMerchant(w.API, v3, v2)
}

// alipayPlatform is the merchant's Alipay platform: the OpenAPI client
// alone, or an alipay.Merchant when the legacy partner is configured.
func alipayPlatform(a *config.Alipay, app gateway.Platform, zone *time.Location, hc *http.Client) (gateway.Platform, error) {
	if !a.UsesMapi() {
		return app, nil
	}
	mapi, err := alipay.NewMapi(alipay.MapiConfig{PID: a.PID, MD5Key: string(a.MD5Key), GatewayURL: a.MapiGateway, HTTPClient: hc, Zone: zone})
	if err != nil {
		return nil, err
	}
	return alipay.NewMerchant(app, mapi)
}
