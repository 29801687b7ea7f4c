package testkit

import (
	"crypto/rsa"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/paydesk/paydesk/gateway/sandbox"
)

// RepoRoot is the repository's top folder.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Testdata returns a path under the repository's testdata folder.
func Testdata(elem ...string) string {
	return filepath.Join(append([]string{RepoRoot(), "testdata"}, elem...)...)
}

// SharedSamples returns a path under ../shared/samples, skipping the test
// when the folder is absent (as in a user's clone).
func SharedSamples(t testing.TB, elem ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{RepoRoot(), "..", "shared", "samples"}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared samples not present (%s): %v", p, err)
	}
	return p
}

// SandboxKeys loads the fixed test-only keys of testdata/sandbox, so tests
// need not spend a second generating RSA keys.
func SandboxKeys(t testing.TB) sandbox.Keys {
	t.Helper()
	k, err := LoadSandboxKeys()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// LoadSandboxKeys is SandboxKeys for benchmarks' and tools' own use.
func LoadSandboxKeys() (sandbox.Keys, error) {
	dir := Testdata("sandbox")
	raw, err := os.ReadFile(filepath.Join(dir, "identities.json"))
	if err != nil {
		return sandbox.Keys{}, err
	}
	var id struct {
		AlipayAppID            string `json:"alipay_app_id"`
		WeChatMchID            string `json:"wechat_mchid"`
		WeChatAppID            string `json:"wechat_appid"`
		WeChatMerchantSerialNo string `json:"wechat_merchant_serial_no"`
		WeChatPlatformKeyID    string `json:"wechat_platform_key_id"`
		WeChatAPIv3Key         string `json:"wechat_apiv3_key"`
		WeChatV2APIKey         string `json:"wechat_v2_api_key"`
		AlipayPID              string `json:"alipay_pid"`
		AlipayMD5Key           string `json:"alipay_md5_key"`
	}
	if err := json.Unmarshal(raw, &id); err != nil {
		return sandbox.Keys{}, err
	}
	k := sandbox.Keys{
		AlipayAppID: id.AlipayAppID, WeChatMchID: id.WeChatMchID, WeChatAppID: id.WeChatAppID,
		WeChatMerchantSerialNo: id.WeChatMerchantSerialNo, WeChatPlatformKeyID: id.WeChatPlatformKeyID,
		WeChatAPIv3Key: id.WeChatAPIv3Key, WeChatV2APIKey: id.WeChatV2APIKey, AlipayPID: id.AlipayPID, AlipayMD5Key: id.AlipayMD5Key,
	}
	for name, dst := range map[string]**rsa.PrivateKey{
		"alipay_app_private": &k.AlipayAppKey, "alipay_platform_private": &k.AlipayPlatformKey,
		"wechat_merchant_private": &k.WeChatMerchantKey, "wechat_platform_private": &k.WeChatPlatformKey,
		"wechat_platform_cert_private": &k.WeChatPlatformCertKey,
	} {
		b, err := os.ReadFile(filepath.Join(dir, name+".pem"))
		if err != nil {
			return sandbox.Keys{}, err
		}
		if *dst, err = sandbox.ParsePrivateKeyPEM(b); err != nil {
			return sandbox.Keys{}, err
		}
	}
	return k, nil
}
