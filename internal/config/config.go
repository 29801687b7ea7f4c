// Package config owns paydesk.toml: finding it, decoding it strictly
// (unknown keys are errors, so a typo never silently falls back to a
// default), resolving relative paths against the file's folder, applying
// the PAYDESK_* environment overrides, and reading the key files it names.
// Key material is held as Secret, which never prints.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/paydesk/paydesk/gateway"
)

// Config is a loaded paydesk.toml.
type Config struct {
	// File is the config file read, empty when none was found.
	File string `toml:"-"`

	Zone     string   `toml:"zone"` // business-day zone; default Asia/Shanghai
	Store    Store    `toml:"store"`
	Operator Operator `toml:"operator"`
	Alipay   *Alipay  `toml:"alipay"`
	WeChat   *WeChat  `toml:"wechat"`
	Serve    Serve    `toml:"serve"`
	Query    Query    `toml:"query"`
	Refund   Refund   `toml:"refund"`
	Recon    Recon    `toml:"recon"`
}

type Store struct {
	Path string `toml:"path"`
}

type Operator struct {
	Name string `toml:"name"`
	Role string `toml:"role"`
}

// Alipay is the [alipay] section: public-key mode needs
// alipay_public_key_file; certificate mode the three cert files.
type Alipay struct {
	AppID               string `toml:"app_id"`
	PrivateKeyFile      string `toml:"private_key_file"`
	AlipayPublicKeyFile string `toml:"alipay_public_key_file"`
	AppCertFile         string `toml:"app_cert_file"`
	AlipayCertFile      string `toml:"alipay_cert_file"`
	AlipayRootCertFile  string `toml:"alipay_root_cert_file"`
	Gateway             string `toml:"gateway"`
	// The legacy mapi gateway (legacy.go).
	PID         string `toml:"pid"`
	MD5KeyFile  string `toml:"md5_key_file"`
	MapiGateway string `toml:"mapi_gateway"`

	PrivateKey      Secret `toml:"-"`
	AlipayPublicKey []byte `toml:"-"`
	AppCert         []byte `toml:"-"`
	AlipayCert      []byte `toml:"-"`
	AlipayRootCert  []byte `toml:"-"`
	MD5Key          Secret `toml:"-"`
}

// WeChat is the [wechat] section, in platform-public-key mode.
type WeChat struct {
	MchID                 string `toml:"mchid"`
	AppID                 string `toml:"appid"`
	MerchantSerialNo      string `toml:"merchant_serial_no"`
	PrivateKeyFile        string `toml:"private_key_file"`
	APIv3KeyEnv           string `toml:"apiv3_key_env"`
	APIv3KeyFile          string `toml:"apiv3_key_file"`
	PlatformPublicKeyID   string `toml:"platform_public_key_id"`
	PlatformPublicKeyFile string `toml:"platform_public_key_file"`
	BaseURL               string `toml:"base_url"`
	// v2 (legacy.go).
	API               string `toml:"api"`
	APIKeyFile        string `toml:"api_key_file"`
	SignType          string `toml:"sign_type"`
	APIClientCertFile string `toml:"apiclient_cert_file"`
	ServerCAFile      string `toml:"server_ca_file"`
	// RefundNotifyURL is where refund results are sent (v2 opens refund
	// notifications only for a refund that names it). The APIv3 refund
	// request takes the same key: keep one when merging.
	RefundNotifyURL string `toml:"refund_notify_url"`

	PrivateKey        Secret `toml:"-"`
	APIv3Key          Secret `toml:"-"`
	PlatformPublicKey []byte `toml:"-"`
	APIKey            Secret `toml:"-"`
	APIClientCert     []byte `toml:"-"`
	ServerCA          []byte `toml:"-"`
}

type Serve struct {
	Listen       string   `toml:"listen"`
	AllowedCIDRs []string `toml:"allowed_cidrs"`
	// TrustedProxies are reverse proxies whose X-Forwarded-For is believed.
	TrustedProxies []string `toml:"trusted_proxies"`
	MaxBodyBytes   int64    `toml:"max_body_bytes"`
}

// Query limits live queries to what the platforms allow.
type Query struct {
	QPS         float64 `toml:"qps"`         // per platform; default 10
	Concurrency int     `toml:"concurrency"` // default 4
}

type Refund struct {
	// ConfirmAbove: refunds above this yuan amount need the order number
	// typed to confirm; default "1000.00".
	ConfirmAbove string `toml:"confirm_above"`
}

type Recon struct {
	SuspenseDays int `toml:"suspense_days"` // default 3
	// FeeRateAlipay and FeeRateWeChat are the contracted service-fee rates
	// ("0.006" or "0.6%"); empty: no fee check.
	FeeRateAlipay string `toml:"fee_rate_alipay"`
	FeeRateWeChat string `toml:"fee_rate_wechat"`

	// FeeRates are the rates parsed, by channel; only the configured ones.
	FeeRates map[gateway.Channel]gateway.FeeRate `toml:"-"`
}

// Secret is key material: it prints as [redacted] so a config dump, a log
// line or an error can never leak it.
type Secret []byte

func (Secret) String() string               { return "[redacted]" }
func (Secret) GoString() string             { return "[redacted]" }
func (Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// Environment overrides.
const (
	EnvConfig   = "PAYDESK_CONFIG"
	EnvDB       = "PAYDESK_DB"
	EnvOperator = "PAYDESK_OPERATOR"
)

// DefaultFile is looked for in the working directory.
const DefaultFile = "paydesk.toml"

// ErrNoConfig means no config file was named or found.
var ErrNoConfig = errors.New("no paydesk.toml found")

// Find returns the config file to use: the flag, else $PAYDESK_CONFIG, else
// ./paydesk.toml if it exists. ErrNoConfig when none applies.
func Find(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if env := os.Getenv(EnvConfig); env != "" {
		return env, nil
	}
	if _, err := os.Stat(DefaultFile); err == nil {
		return DefaultFile, nil
	}
	return "", ErrNoConfig
}

// Load reads and checks a config file, then applies the environment.
func Load(path string) (*Config, error) {
	c := &Config{File: path}
	md, err := toml.DecodeFile(path, c)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s:%d: %s", path, pe.Position.Line, pe.Message)
		}
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		sort.Strings(keys)
		return nil, fmt.Errorf("config %s: unknown key(s) %s", path, strings.Join(keys, ", "))
	}
	if err := c.resolve(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	c.applyEnv()
	return c, nil
}

// Empty is the configuration with no file: defaults and the environment.
func Empty() *Config {
	c := &Config{}
	_ = c.resolve(".")
	c.applyEnv()
	return c
}

func (c *Config) applyEnv() {
	if v := os.Getenv(EnvDB); v != "" {
		c.Store.Path = v
	}
	if v := os.Getenv(EnvOperator); v != "" {
		c.Operator.Name = v
	}
}

// resolve fills defaults, makes paths absolute against dir, and reads the
// key files.
func (c *Config) resolve(dir string) error {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	if c.Store.Path != "" {
		c.Store.Path = abs(c.Store.Path)
	}
	if c.Zone == "" {
		c.Zone = "Asia/Shanghai"
	}
	if c.Serve.Listen == "" {
		c.Serve.Listen = "127.0.0.1:8080"
	}
	if c.Serve.MaxBodyBytes == 0 {
		c.Serve.MaxBodyBytes = 64 << 10
	}
	if c.Query.QPS == 0 {
		c.Query.QPS = 10
	}
	if c.Query.Concurrency == 0 {
		c.Query.Concurrency = 4
	}
	if c.Refund.ConfirmAbove == "" {
		c.Refund.ConfirmAbove = "1000.00"
	}
	if c.Recon.SuspenseDays == 0 {
		c.Recon.SuspenseDays = 3
	}
	var errs []error
	c.Recon.FeeRates = map[gateway.Channel]gateway.FeeRate{}
	for _, r := range []struct {
		key, v string
		ch     gateway.Channel
	}{{"fee_rate_alipay", c.Recon.FeeRateAlipay, gateway.Alipay}, {"fee_rate_wechat", c.Recon.FeeRateWeChat, gateway.WeChat}} {
		if r.v == "" {
			continue
		}
		rate, err := gateway.ParseFeeRate(r.v)
		if err != nil {
			errs = append(errs, fmt.Errorf("[recon] %s: %w", r.key, err))
			continue
		}
		c.Recon.FeeRates[r.ch] = rate
	}
	if a := c.Alipay; a != nil {
		errs = append(errs, a.load(abs))
	}
	if w := c.WeChat; w != nil {
		errs = append(errs, w.load(abs))
	}
	return errors.Join(errs...)
}

func readKey(section, key, path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("[%s] %s: cannot read %s: %w", section, key, path, unwrapPathError(err))
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil, fmt.Errorf("[%s] %s: %s is empty", section, key, path)
	}
	return b, nil
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (a *Alipay) load(abs func(string) string) error {
	if err := a.loadMapi(abs); err != nil || !a.UsesOpenAPI() {
		return err
	}
	var missing []string
	if a.AppID == "" {
		missing = append(missing, "app_id")
	}
	if a.PrivateKeyFile == "" {
		missing = append(missing, "private_key_file")
	}
	certMode := a.AppCertFile != "" || a.AlipayCertFile != "" || a.AlipayRootCertFile != ""
	if certMode {
		for k, v := range map[string]string{"app_cert_file": a.AppCertFile, "alipay_cert_file": a.AlipayCertFile, "alipay_root_cert_file": a.AlipayRootCertFile} {
			if v == "" {
				missing = append(missing, k)
			}
		}
		if a.AlipayPublicKeyFile != "" {
			return errors.New("[alipay]: give either alipay_public_key_file (public-key mode) or the three cert files (certificate mode), not both")
		}
	} else if a.AlipayPublicKeyFile == "" {
		missing = append(missing, "alipay_public_key_file (or app_cert_file, alipay_cert_file and alipay_root_cert_file)")
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("[alipay]: missing %s", strings.Join(missing, ", "))
	}
	if a.Gateway == "" {
		a.Gateway = "https://openapi.alipay.com/gateway.do"
	}
	var err error
	if a.PrivateKey, err = readKey("alipay", "private_key_file", abs(a.PrivateKeyFile)); err != nil {
		return err
	}
	if !certMode {
		a.AlipayPublicKey, err = readKey("alipay", "alipay_public_key_file", abs(a.AlipayPublicKeyFile))
		return err
	}
	if a.AppCert, err = readKey("alipay", "app_cert_file", abs(a.AppCertFile)); err != nil {
		return err
	}
	if a.AlipayCert, err = readKey("alipay", "alipay_cert_file", abs(a.AlipayCertFile)); err != nil {
		return err
	}
	a.AlipayRootCert, err = readKey("alipay", "alipay_root_cert_file", abs(a.AlipayRootCertFile))
	return err
}

func (w *WeChat) load(abs func(string) string) error {
	if err := w.loadV2(abs); err != nil || !w.UsesV3() {
		return err
	}
	var missing []string
	for k, v := range map[string]string{"mchid": w.MchID, "appid": w.AppID, "merchant_serial_no": w.MerchantSerialNo,
		"private_key_file": w.PrivateKeyFile, "platform_public_key_id": w.PlatformPublicKeyID, "platform_public_key_file": w.PlatformPublicKeyFile} {
		if v == "" {
			missing = append(missing, k)
		}
	}
	if w.APIv3KeyEnv == "" && w.APIv3KeyFile == "" {
		missing = append(missing, "apiv3_key_env (or apiv3_key_file)")
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("[wechat]: missing %s", strings.Join(missing, ", "))
	}
	if w.BaseURL == "" {
		w.BaseURL = "https://api.mch.weixin.qq.com"
	}
	var err error
	if w.PrivateKey, err = readKey("wechat", "private_key_file", abs(w.PrivateKeyFile)); err != nil {
		return err
	}
	if w.PlatformPublicKey, err = readKey("wechat", "platform_public_key_file", abs(w.PlatformPublicKeyFile)); err != nil {
		return err
	}
	var key []byte
	switch {
	case w.APIv3KeyFile != "":
		if key, err = readKey("wechat", "apiv3_key_file", abs(w.APIv3KeyFile)); err != nil {
			return err
		}
	default:
		v, ok := os.LookupEnv(w.APIv3KeyEnv)
		if !ok || v == "" {
			return fmt.Errorf("[wechat] apiv3_key_env: environment variable %s is not set", w.APIv3KeyEnv)
		}
		key = []byte(v)
	}
	key = []byte(strings.TrimSpace(string(key)))
	if len(key) != 32 {
		// The length, never the key: a wrong key must not end up in a log.
		return fmt.Errorf("[wechat]: the APIv3 key must be 32 bytes, got %d", len(key))
	}
	w.APIv3Key = key
	return nil
}
