package config

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// The legacy protocols' keys: WeChat Pay v2 in [wechat] and Alipay's mapi
// gateway (即时到账) in [alipay]. A merchant may use them alone (a v2-only
// WeChat merchant, a partner without an OpenAPI app) or beside the new
// APIs.

// UsesV3 reports whether [wechat] configures APIv3: always when api is
// "v3" (the default), and with api = "v2" when any APIv3 key is given (the
// whole set is then checked, and APIv3 callbacks verify too).
func (w *WeChat) UsesV3() bool {
	return w.API != "v2" || w.MerchantSerialNo != "" || w.APIv3KeyEnv != "" || w.APIv3KeyFile != "" ||
		w.PlatformPublicKeyID != "" || w.PlatformPublicKeyFile != "" || len(w.PlatformCertFiles) > 0 || w.PlatformCertDownload
}

// UsesV2 reports whether [wechat] configures the v2 API key, with which v2
// callbacks verify (and, with api = "v2", queries, refunds and bills go).
func (w *WeChat) UsesV2() bool { return w.APIKeyFile != "" }

// loadV2 checks and reads the v2 keys: api, api_key_file (32 characters),
// sign_type, apiclient_cert_file (with private_key_file, for v2 refunds),
// server_ca_file.
func (w *WeChat) loadV2(abs func(string) string, warnings *[]string) error {
	switch w.API {
	case "":
		w.API = "v3"
	case "v2", "v3":
	default:
		return fmt.Errorf("[wechat] api: %q is neither \"v3\" nor \"v2\"", w.API)
	}
	switch w.SignType {
	case "":
		w.SignType = "MD5"
	case "MD5", "HMAC-SHA256":
	default:
		return fmt.Errorf("[wechat] sign_type: %q is neither \"MD5\" nor \"HMAC-SHA256\"", w.SignType)
	}
	if w.API == "v2" {
		var missing []string
		for k, v := range map[string]string{"mchid": w.MchID, "appid": w.AppID, "api_key_file": w.APIKeyFile} {
			if v == "" {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			return fmt.Errorf("[wechat]: api = \"v2\" needs %s", strings.Join(missing, ", "))
		}
	}
	var err error
	if w.ServerCAFile != "" {
		if w.ServerCA, err = readKey("wechat", "server_ca_file", abs(w.ServerCAFile)); err != nil {
			return err
		}
	}
	if w.APIKeyFile == "" {
		if w.APIClientCertFile != "" {
			return errors.New("[wechat] apiclient_cert_file is for v2 refunds: it needs api_key_file")
		}
		return nil
	}
	key, err := readSecret("wechat", "api_key_file", abs(w.APIKeyFile), warnings)
	if err != nil {
		return err
	}
	key = []byte(strings.TrimSpace(string(key)))
	if len(key) != 32 {
		// The length, never the key.
		return fmt.Errorf("[wechat] api_key_file: the v2 API key must be 32 characters, got %d", len(key))
	}
	w.APIKey = key
	if w.APIClientCertFile == "" {
		return nil
	}
	if w.PrivateKeyFile == "" {
		return errors.New("[wechat] apiclient_cert_file needs private_key_file (apiclient_key.pem) beside it")
	}
	if w.APIClientCert, err = readKey("wechat", "apiclient_cert_file", abs(w.APIClientCertFile)); err != nil {
		return err
	}
	w.PrivateKey, err = readSecret("wechat", "private_key_file", abs(w.PrivateKeyFile), warnings)
	return err
}

// UsesOpenAPI reports whether [alipay] configures an OpenAPI app: always,
// unless it names a legacy partner's MD5 key and none of an app's keys.
func (a *Alipay) UsesOpenAPI() bool {
	return a.MD5KeyFile == "" || a.AppID != "" || a.PrivateKeyFile != "" || a.AlipayPublicKeyFile != "" ||
		a.AppCertFile != "" || a.AlipayCertFile != "" || a.AlipayRootCertFile != "" || a.Gateway != ""
}

// UsesMapi reports whether [alipay] configures the legacy partner, whose
// MD5-signed notifications then verify.
func (a *Alipay) UsesMapi() bool { return a.MD5KeyFile != "" }

// loadMapi checks and reads the legacy partner: pid (2088 and 12 digits),
// md5_key_file (32 characters), mapi_gateway.
func (a *Alipay) loadMapi(abs func(string) string, warnings *[]string) error {
	if a.PID != "" && (len(a.PID) != 16 || !strings.HasPrefix(a.PID, "2088") || strings.Trim(a.PID, "0123456789") != "") {
		return fmt.Errorf("[alipay] pid: %q is not a partner id (2088 followed by 12 digits)", a.PID)
	}
	if a.MD5KeyFile == "" {
		if a.MapiGateway != "" {
			return errors.New("[alipay] mapi_gateway is for the legacy partner: it needs pid and md5_key_file")
		}
		return nil
	}
	if a.PID == "" {
		return errors.New("[alipay] md5_key_file needs pid, the partner id it belongs to")
	}
	if a.MapiGateway == "" {
		a.MapiGateway = "https://mapi.alipay.com/gateway.do"
	}
	key, err := readSecret("alipay", "md5_key_file", abs(a.MD5KeyFile), warnings)
	if err != nil {
		return err
	}
	key = []byte(strings.TrimSpace(string(key)))
	if len(key) != 32 {
		return fmt.Errorf("[alipay] md5_key_file: the MD5 key must be 32 characters, got %d", len(key))
	}
	a.MD5Key = key
	return nil
}
