package sandbox

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Keys are the identities and key pairs of both simulated platforms and of
// the one merchant they serve. The sandbox holds the merchant's private keys
// only so it can hand them to paydesk (WriteClientFiles); it signs with the
// platform keys and verifies with the merchant's public keys.
type Keys struct {
	AlipayAppID       string
	AlipayAppKey      *rsa.PrivateKey // the merchant's app key: signs requests
	AlipayPlatformKey *rsa.PrivateKey // Alipay's key: signs responses and notifications

	WeChatMchID            string
	WeChatAppID            string
	WeChatMerchantSerialNo string          // serial of the merchant API certificate
	WeChatMerchantKey      *rsa.PrivateKey // apiclient_key.pem: signs requests
	WeChatPlatformKeyID    string          // PUB_KEY_ID_...: names the platform public key
	WeChatPlatformKey      *rsa.PrivateKey // WeChat Pay's public-key key: signs responses and notifications
	WeChatAPIv3Key         string          // 32 bytes: encrypts notification resources and downloaded certificates

	// WeChatPlatformCertKey is the key of WeChat Pay's platform certificate
	// (微信支付平台证书), the other key WeChat signs with, by serial number;
	// New makes one when it is nil.
	WeChatPlatformCertKey *rsa.PrivateKey

	// Legacy protocols (see wechat_v2.go, alipay_mapi.go). New fills the
	// ones left empty, so key sets made before them keep working.

	// WeChatV2APIKey is the merchant's v2 API key (API密钥, 32
	// characters): it signs the v2 API and notifications, and its MD5
	// encrypts refund notifications.
	WeChatV2APIKey string
	// AlipayPID is the partner id (2088 and 12 digits) of the legacy mapi
	// gateway; empty derives it from the app id, as seller_id always was.
	AlipayPID string
	// AlipayMD5Key is the partner's MD5 key (32 characters).
	AlipayMD5Key string
	// TLSCAKey signs the sandbox's HTTPS certificate and the merchant API
	// certificate (apiclient_cert.pem) that v2 refunds present.
	TLSCAKey *ecdsa.PrivateKey
}

func (k Keys) validate() error {
	var missing []string
	check := func(ok bool, name string) {
		if !ok {
			missing = append(missing, name)
		}
	}
	check(k.AlipayAppID != "", "AlipayAppID")
	check(k.AlipayAppKey != nil, "AlipayAppKey")
	check(k.AlipayPlatformKey != nil, "AlipayPlatformKey")
	check(k.WeChatMchID != "", "WeChatMchID")
	check(k.WeChatAppID != "", "WeChatAppID")
	check(k.WeChatMerchantSerialNo != "", "WeChatMerchantSerialNo")
	check(k.WeChatMerchantKey != nil, "WeChatMerchantKey")
	check(k.WeChatPlatformKeyID != "", "WeChatPlatformKeyID")
	check(k.WeChatPlatformKey != nil, "WeChatPlatformKey")
	check(len(k.WeChatAPIv3Key) == 32, "WeChatAPIv3Key (32 bytes)")
	if len(missing) > 0 {
		return fmt.Errorf("sandbox: keys missing: %v", missing)
	}
	return nil
}

// GenerateKeys makes fresh keys and identities (five RSA-2048 keys: about a
// second of CPU). Tests use the fixed test keys in testdata instead.
func GenerateKeys() (Keys, error) {
	var k Keys
	var err error
	for _, p := range []**rsa.PrivateKey{&k.AlipayAppKey, &k.AlipayPlatformKey, &k.WeChatMerchantKey, &k.WeChatPlatformKey, &k.WeChatPlatformCertKey} {
		if *p, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return Keys{}, err
		}
	}
	k.AlipayAppID = "2021" + randomDigits(12)
	k.WeChatMchID = "19" + randomDigits(8)
	k.WeChatAppID = "wx" + randomHex(8)
	k.WeChatMerchantSerialNo = upperHex(20)
	k.WeChatPlatformKeyID = "PUB_KEY_ID_01" + randomDigits(20)
	k.WeChatAPIv3Key = randomHex(16)
	return k, nil
}

func randomDigits(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	return string(b)
}

func randomHex(nBytes int) string {
	b := make([]byte, nBytes)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func upperHex(nBytes int) string {
	b := make([]byte, nBytes)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%X", b)
}

// PrivateKeyPEM encodes a private key as PKCS#8 PEM.
func PrivateKeyPEM(k *rsa.PrivateKey) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		panic(err) // an RSA key always marshals
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// PublicKeyPEM encodes a public key as PKIX PEM, the form both platforms'
// consoles hand out.
func PublicKeyPEM(k *rsa.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// ParsePrivateKeyPEM reads a PKCS#1 or PKCS#8 RSA private key.
func ParsePrivateKeyPEM(b []byte) (*rsa.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("no PEM block")
	}
	if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("not an RSA key")
	}
	return rk, nil
}

// keysFile holds the sandbox's own key material between runs, so a restarted
// `paydesk sandbox --dir DIR` keeps the identities the written paydesk.toml
// names.
const keysFile = "sandbox-keys.json"

type savedKeys struct {
	AlipayAppID            string `json:"alipay_app_id"`
	AlipayAppKey           string `json:"alipay_app_key"`
	AlipayPlatformKey      string `json:"alipay_platform_key"`
	WeChatMchID            string `json:"wechat_mchid"`
	WeChatAppID            string `json:"wechat_appid"`
	WeChatMerchantSerialNo string `json:"wechat_merchant_serial_no"`
	WeChatMerchantKey      string `json:"wechat_merchant_key"`
	WeChatPlatformKeyID    string `json:"wechat_platform_key_id"`
	WeChatPlatformKey      string `json:"wechat_platform_key"`
	WeChatPlatformCertKey  string `json:"wechat_platform_cert_key,omitempty"`
	WeChatAPIv3Key         string `json:"wechat_apiv3_key"`
	WeChatV2APIKey         string `json:"wechat_v2_api_key,omitempty"`
	AlipayPID              string `json:"alipay_pid,omitempty"`
	AlipayMD5Key           string `json:"alipay_md5_key,omitempty"`
	TLSCAKey               string `json:"tls_ca_key,omitempty"`
}

// SaveKeys writes the keys into dir (mode 0600: it holds private keys).
func (k Keys) SaveKeys(dir string) error {
	sk := savedKeys{
		AlipayAppID: k.AlipayAppID, AlipayAppKey: string(PrivateKeyPEM(k.AlipayAppKey)), AlipayPlatformKey: string(PrivateKeyPEM(k.AlipayPlatformKey)),
		WeChatMchID: k.WeChatMchID, WeChatAppID: k.WeChatAppID, WeChatMerchantSerialNo: k.WeChatMerchantSerialNo,
		WeChatMerchantKey: string(PrivateKeyPEM(k.WeChatMerchantKey)), WeChatPlatformKeyID: k.WeChatPlatformKeyID,
		WeChatPlatformKey: string(PrivateKeyPEM(k.WeChatPlatformKey)), WeChatAPIv3Key: k.WeChatAPIv3Key,
		WeChatV2APIKey: k.WeChatV2APIKey, AlipayPID: k.AlipayPID, AlipayMD5Key: k.AlipayMD5Key, TLSCAKey: ecKeyPEM(k.TLSCAKey),
	}
	if k.WeChatPlatformCertKey != nil {
		sk.WeChatPlatformCertKey = string(PrivateKeyPEM(k.WeChatPlatformCertKey))
	}
	b, err := json.MarshalIndent(sk, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, keysFile), b, 0o600)
}

// LoadKeys reads keys SaveKeys wrote; os.ErrNotExist when there are none.
func LoadKeys(dir string) (Keys, error) {
	b, err := os.ReadFile(filepath.Join(dir, keysFile))
	if err != nil {
		return Keys{}, err
	}
	var s savedKeys
	if err := json.Unmarshal(b, &s); err != nil {
		return Keys{}, fmt.Errorf("%s: %w", keysFile, err)
	}
	k := Keys{AlipayAppID: s.AlipayAppID, WeChatMchID: s.WeChatMchID, WeChatAppID: s.WeChatAppID,
		WeChatMerchantSerialNo: s.WeChatMerchantSerialNo, WeChatPlatformKeyID: s.WeChatPlatformKeyID, WeChatAPIv3Key: s.WeChatAPIv3Key,
		WeChatV2APIKey: s.WeChatV2APIKey, AlipayPID: s.AlipayPID, AlipayMD5Key: s.AlipayMD5Key}
	if s.TLSCAKey != "" {
		if k.TLSCAKey, err = parseECKeyPEM([]byte(s.TLSCAKey)); err != nil {
			return Keys{}, fmt.Errorf("%s: tls_ca_key: %w", keysFile, err)
		}
	}
	for _, p := range []struct {
		pem string
		dst **rsa.PrivateKey
	}{{s.AlipayAppKey, &k.AlipayAppKey}, {s.AlipayPlatformKey, &k.AlipayPlatformKey}, {s.WeChatMerchantKey, &k.WeChatMerchantKey}, {s.WeChatPlatformKey, &k.WeChatPlatformKey}} {
		if *p.dst, err = ParsePrivateKeyPEM([]byte(p.pem)); err != nil {
			return Keys{}, fmt.Errorf("%s: %w", keysFile, err)
		}
	}
	// Files written before the sandbox had platform certificates lack
	// the certificate key: the caller makes one and saves again.
	if s.WeChatPlatformCertKey != "" {
		if k.WeChatPlatformCertKey, err = ParsePrivateKeyPEM([]byte(s.WeChatPlatformCertKey)); err != nil {
			return Keys{}, fmt.Errorf("%s: %w", keysFile, err)
		}
	}
	return k, k.validate()
}
