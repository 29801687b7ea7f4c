package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/paydesk/paydesk/gateway"
)

// ClientFiles are the files WriteClientFiles wrote, relative to its dir.
type ClientFiles struct {
	Config string // paydesk.toml
	Keys   []string
}

// WriteClientFiles writes into dir what a merchant's paydesk needs to talk
// to this sandbox, as a merchant would download them from the platforms'
// consoles: the platform public keys, the WeChat Pay platform certificate,
// the merchant private keys the sandbox accepts, the APIv3 key, and a
// paydesk.toml pointing at the sandbox's URL with the keys its sign modes
// need.
// dbPath goes into [store]; empty means "paydesk.db" beside the config.
func (s *Server) WriteClientFiles(dir, dbPath string) (ClientFiles, error) {
	if s.baseURL == "" {
		return ClientFiles{}, fmt.Errorf("sandbox: WriteClientFiles before Start")
	}
	k := s.cfg.Keys
	files := map[string][]byte{
		"keys/alipay_app_private.pem":    PrivateKeyPEM(k.AlipayAppKey),
		"keys/alipay_app_public.pem":     PublicKeyPEM(&k.AlipayAppKey.PublicKey),
		"keys/alipay_public.pem":         PublicKeyPEM(&k.AlipayPlatformKey.PublicKey),
		"keys/apiclient_key.pem":         PrivateKeyPEM(k.WeChatMerchantKey),
		"keys/wechatpay_pub.pem":         PublicKeyPEM(&k.WeChatPlatformKey.PublicKey),
		"keys/wechatpay_cert.pem":        s.wechatCertPEM(),
		"keys/wechat_apiv3_key":          []byte(k.WeChatAPIv3Key),
		"keys/wechatpay_merchant_serial": []byte(k.WeChatMerchantSerialNo + "\n"),
		// Legacy protocols: the v2 API key, the merchant API certificate
		// for v2 refunds and the CA of the sandbox's HTTPS; the Alipay
		// partner's MD5 key.
		"keys/wechat_v2_api_key":  []byte(k.WeChatV2APIKey),
		"keys/apiclient_cert.pem": s.MerchantCertPEM(),
		"keys/sandbox_ca.pem":     s.CACertPEM(),
		"keys/alipay_md5_key":     []byte(k.AlipayMD5Key),
	}
	if dbPath == "" {
		dbPath = "paydesk.db"
	}
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "# paydesk configuration for the sandbox at %s (test keys: never use them for real money)\n\n", s.baseURL)
	fmt.Fprintf(&cfg, "[store]\npath = %q\n\n", dbPath)
	if _, ok := s.sides[gateway.Alipay]; ok {
		fmt.Fprintf(&cfg, "[alipay]\napp_id = %q\nprivate_key_file = \"keys/alipay_app_private.pem\"\nalipay_public_key_file = \"keys/alipay_public.pem\"\ngateway = %q\n",
			k.AlipayAppID, s.baseURL+AlipayGatewayPath)
		if s.cfg.AlipaySignType == alipaySignRSA {
			cfg.WriteString("sign_type = \"RSA\"                  # this sandbox app signs with SHA1withRSA\n")
		}
		fmt.Fprintf(&cfg, "# the legacy mapi gateway (即时到账, MD5 notifications)\npid = %q\nmd5_key_file = \"keys/alipay_md5_key\"\nmapi_gateway = %q\n\n",
			k.AlipayPID, s.baseURL+AlipayMapiPath)
	}
	if _, ok := s.sides[gateway.WeChat]; ok && s.cfg.WeChatAPI == "v2" {
		// A merchant that never moved to APIv3: the v2 keys alone. v2
		// refunds need HTTPS with the merchant certificate, so the base
		// URL is the sandbox's HTTPS one, with its CA to trust.
		fmt.Fprintf(&cfg, "[wechat]\nmchid = %q\nappid = %q\napi = \"v2\"\napi_key_file = \"keys/wechat_v2_api_key\"\nsign_type = %q\napiclient_cert_file = \"keys/apiclient_cert.pem\"\nprivate_key_file = \"keys/apiclient_key.pem\"\nbase_url = %q\nserver_ca_file = \"keys/sandbox_ca.pem\"\n",
			k.WeChatMchID, k.WeChatAppID, s.cfg.WeChatV2SignType, s.TLSURL())
	} else if ok {
		fmt.Fprintf(&cfg, "[wechat]\nmchid = %q\nappid = %q\nmerchant_serial_no = %q\nprivate_key_file = \"keys/apiclient_key.pem\"\napiv3_key_file = \"keys/wechat_apiv3_key\"\n",
			k.WeChatMchID, k.WeChatAppID, k.WeChatMerchantSerialNo)
		// The keys the sign mode signs with: the public key, the platform
		// certificate (a file; or platform_cert_download = true), or both.
		if s.cfg.WeChatSign != WeChatSignCert {
			fmt.Fprintf(&cfg, "platform_public_key_id = %q\nplatform_public_key_file = \"keys/wechatpay_pub.pem\"\n", k.WeChatPlatformKeyID)
		}
		if s.cfg.WeChatSign != WeChatSignPubKey {
			cfg.WriteString("platform_cert_files = [\"keys/wechatpay_cert.pem\"]      # or: platform_cert_download = true\n")
		}
		fmt.Fprintf(&cfg, "base_url = %q\n", s.baseURL)
		// Every merchant also has a v2 API key: v2 callbacks verify too.
		fmt.Fprint(&cfg, "api_key_file = \"keys/wechat_v2_api_key\"\n")
	}
	files["paydesk.toml"] = []byte(cfg.String())
	if files["keys/wechatpay_cert.pem"] == nil {
		delete(files, "keys/wechatpay_cert.pem")
	}

	out := ClientFiles{Config: "paydesk.toml"}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return ClientFiles{}, err
		}
		mode := os.FileMode(0o644)
		if strings.Contains(name, "private") || strings.Contains(name, "apiclient_key") || strings.Contains(name, "apiv3") || strings.HasSuffix(name, "_key") {
			mode = 0o600
		}
		if err := os.WriteFile(p, data, mode); err != nil {
			return ClientFiles{}, err
		}
		if name != "paydesk.toml" {
			out.Keys = append(out.Keys, name)
		}
	}
	return out, nil
}

func (s *Server) wechatCertPEM() []byte {
	if s.wechatCert == nil {
		return nil
	}
	return s.wechatCert.PEM
}
