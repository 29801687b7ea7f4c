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
// consoles: the platform public keys, the merchant private keys the sandbox
// accepts, the APIv3 key, and a paydesk.toml pointing at the sandbox's URL.
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
		"keys/wechat_apiv3_key":          []byte(k.WeChatAPIv3Key),
		"keys/wechatpay_merchant_serial": []byte(k.WeChatMerchantSerialNo + "\n"),
	}
	if dbPath == "" {
		dbPath = "paydesk.db"
	}
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "# paydesk configuration for the sandbox at %s (test keys: never use them for real money)\n\n", s.baseURL)
	fmt.Fprintf(&cfg, "[store]\npath = %q\n\n", dbPath)
	if _, ok := s.sides[gateway.Alipay]; ok {
		fmt.Fprintf(&cfg, "[alipay]\napp_id = %q\npid = %q\nprivate_key_file = \"keys/alipay_app_private.pem\"\nalipay_public_key_file = \"keys/alipay_public.pem\"\ngateway = %q\n\n",
			k.AlipayAppID, s.AlipayPID(), s.baseURL+AlipayGatewayPath)
	}
	if _, ok := s.sides[gateway.WeChat]; ok {
		fmt.Fprintf(&cfg, "[wechat]\nmchid = %q\nappid = %q\nmerchant_serial_no = %q\nprivate_key_file = \"keys/apiclient_key.pem\"\napiv3_key_file = \"keys/wechat_apiv3_key\"\nplatform_public_key_id = %q\nplatform_public_key_file = \"keys/wechatpay_pub.pem\"\nbase_url = %q\n",
			k.WeChatMchID, k.WeChatAppID, k.WeChatMerchantSerialNo, k.WeChatPlatformKeyID, s.baseURL)
	}
	files["paydesk.toml"] = []byte(cfg.String())

	out := ClientFiles{Config: "paydesk.toml"}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return ClientFiles{}, err
		}
		mode := os.FileMode(0o644)
		if strings.Contains(name, "private") || strings.Contains(name, "apiclient_key") || strings.Contains(name, "apiv3") {
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
