// Package config owns paydesk.toml: finding it, decoding it strictly
// (unknown keys are errors, so a typo never silently falls back to a
// default), resolving relative paths against the file's folder, applying
// the PAYDESK_* environment overrides, and reading the key files it names.
// Key material is held as Secret, which never prints.
package config

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

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
	SSH      SSH      `toml:"ssh"`
	Query    Query    `toml:"query"`
	Refund   Refund   `toml:"refund"`
	Recon    Recon    `toml:"recon"`

	// Warnings are things worth saying that do not stop paydesk (a key
	// file others may read). The CLI prints them once on stderr.
	Warnings []string `toml:"-"`
}

// Store is the [store] section: an SQLite file (path, the default) or a
// PostgreSQL database (url), never both.
type Store struct {
	Path string `toml:"path"`
	// URL is postgres://… or postgresql://…; a password is better kept in
	// ~/.pgpass or $PGPASSWORD than here, and never prints.
	URL DatabaseURL `toml:"url"`
	// BillsDir is where kept bills go: default a bills folder beside the
	// SQLite file, or beside paydesk.toml with PostgreSQL.
	BillsDir string `toml:"bills_dir"`
}

// DB is the database the store opens: the URL, else the path.
func (s Store) DB() string {
	if s.URL != "" {
		return string(s.URL)
	}
	return s.Path
}

// DatabaseURL is a PostgreSQL URL; it prints without its password.
type DatabaseURL string

func (u DatabaseURL) String() string {
	p, err := url.Parse(string(u))
	if err != nil {
		return "postgres://[unreadable URL]"
	}
	if _, ok := p.User.Password(); ok {
		p.User = url.UserPassword(p.User.Username(), "redacted")
	}
	if q := p.Query(); q.Has("password") {
		q.Set("password", "redacted")
		p.RawQuery = q.Encode()
	}
	return p.String()
}
func (u DatabaseURL) GoString() string             { return u.String() }
func (u DatabaseURL) MarshalText() ([]byte, error) { return []byte(u.String()), nil }

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
	// SignType is the app's signature type: "RSA2" (default) or "RSA" for
	// older apps set up with an RSA (SHA1) key. Only this type is
	// accepted from Alipay; the other is refused as a downgrade.
	SignType string `toml:"sign_type"`
	// The legacy mapi gateway (legacy.go). PID is also whose bills
	// these are: an Alipay bill states #账号 = PID + a 4-digit suffix.
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

// WeChat is the [wechat] section. WeChat Pay signs with its platform
// public key, its platform certificates, or both (during a merchant's move
// to the public key): configure the public key, the certificates (files or
// download), or both.
type WeChat struct {
	MchID                 string `toml:"mchid"`
	AppID                 string `toml:"appid"`
	MerchantSerialNo      string `toml:"merchant_serial_no"`
	PrivateKeyFile        string `toml:"private_key_file"`
	APIv3KeyEnv           string `toml:"apiv3_key_env"`
	APIv3KeyFile          string `toml:"apiv3_key_file"`
	PlatformPublicKeyID   string `toml:"platform_public_key_id"`
	PlatformPublicKeyFile string `toml:"platform_public_key_file"`
	// PlatformCertFiles are platform certificates (微信支付平台证书), each
	// chosen by its serial number.
	PlatformCertFiles []string `toml:"platform_cert_files"`
	// PlatformCertDownload fetches and refreshes the platform certificates
	// through /v3/certificates.
	PlatformCertDownload bool   `toml:"platform_cert_download"`
	BaseURL              string `toml:"base_url"`
	// v2 (legacy.go).
	API               string `toml:"api"`
	APIKeyFile        string `toml:"api_key_file"`
	SignType          string `toml:"sign_type"`
	APIClientCertFile string `toml:"apiclient_cert_file"`
	ServerCAFile      string `toml:"server_ca_file"`
	// RefundNotifyURL is sent with each refund as its notify_url, APIv3
	// and v2 alike (v2 opens refund notifications only for a refund that
	// names it); default [serve] public_url + "/notify/wechat"
	// (Config.WeChatRefundNotifyURL).
	RefundNotifyURL string `toml:"refund_notify_url"`

	PrivateKey        Secret   `toml:"-"`
	APIv3Key          Secret   `toml:"-"`
	PlatformPublicKey []byte   `toml:"-"`
	PlatformCerts     [][]byte `toml:"-"`
	APIKey            Secret   `toml:"-"`
	APIClientCert     []byte   `toml:"-"`
	ServerCA          []byte   `toml:"-"`
}

type Serve struct {
	Listen string `toml:"listen"`
	// PublicURL is how the platforms reach this endpoint
	// ("https://pay.example.com"); refunds name PublicURL/notify/wechat as
	// their notify_url unless [wechat] refund_notify_url says otherwise.
	PublicURL    string   `toml:"public_url"`
	AllowedCIDRs []string `toml:"allowed_cidrs"`
	// TrustedProxies are reverse proxies whose X-Forwarded-For is believed.
	TrustedProxies []string `toml:"trusted_proxies"`
	MaxBodyBytes   int64    `toml:"max_body_bytes"`
	// UnverifiedBytesPerMinute and UnverifiedRowsPerMinute cap what one
	// sender may add to the store per minute with callbacks that fail
	// verification (ops.IntakeCap; zero: its defaults).
	UnverifiedBytesPerMinute int64 `toml:"unverified_bytes_per_minute"`
	UnverifiedRowsPerMinute  int   `toml:"unverified_rows_per_minute"`

	// Allowed and Proxies are AllowedCIDRs and TrustedProxies, parsed.
	Allowed []netip.Prefix `toml:"-"`
	Proxies []netip.Prefix `toml:"-"`
}

// SSH is the [ssh] section: the console served over SSH, each person
// known by their public key. The users' keys and roles are checked where
// they are used (internal/sshconsole), so `paydesk ssh-users check` can
// list every mistake at once instead of stopping at the first.
type SSH struct {
	Listen      string `toml:"listen"` // empty: no SSH console
	HostKeyFile string `toml:"host_key_file"`
	// IdleTimeout ends a session after this long without a key press;
	// default 30m, "0" never.
	IdleTimeout string    `toml:"idle_timeout"`
	Users       []SSHUser `toml:"users"`

	// Idle is IdleTimeout parsed.
	Idle time.Duration `toml:"-"`
}

// SSHUser is one [[ssh.users]] entry.
type SSHUser struct {
	Name       string   `toml:"name"`
	Role       string   `toml:"role"`
	PublicKeys []string `toml:"public_keys"`
}

// Query limits live queries to what the platforms allow.
type Query struct {
	QPS         float64 `toml:"qps"`         // per platform; default 10
	Concurrency int     `toml:"concurrency"` // default 4
}

type Refund struct {
	// ConfirmAbove: refunds above this yuan amount need the order number
	// typed to confirm; default "1000.00". "0" means every refund does.
	ConfirmAbove string `toml:"confirm_above"`
	// Threshold is ConfirmAbove parsed; set on load.
	Threshold gateway.Money `toml:"-"`
	// QueryAfter is how long after a refund's outcome became unknown a
	// refund query about it is trusted (Go duration, "10s" default):
	// Alipay asks for 10 seconds between a refund and its query.
	QueryAfter string `toml:"query_after"`
	// QueryAfterDuration is QueryAfter parsed.
	QueryAfterDuration time.Duration `toml:"-"`
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

// WeChatRefundNotifyURL is the notify_url WeChat refunds carry: [wechat]
// refund_notify_url, else derived from [serve] public_url, else none.
func (c *Config) WeChatRefundNotifyURL() string {
	if c.WeChat != nil && c.WeChat.RefundNotifyURL != "" {
		return c.WeChat.RefundNotifyURL
	}
	if c.Serve.PublicURL != "" {
		return strings.TrimRight(c.Serve.PublicURL, "/") + "/notify/wechat"
	}
	return ""
}

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
		c.Store.SetDB(v)
	}
	if v := os.Getenv(EnvOperator); v != "" {
		c.Operator.Name = v
	}
}

// SetDB points the store at db, an SQLite path or a PostgreSQL URL (from
// --db or $PAYDESK_DB), replacing both path and url.
func (s *Store) SetDB(db string) {
	s.Path, s.URL = "", ""
	if isDatabaseURL(db) {
		s.URL = DatabaseURL(db)
	} else {
		s.Path = db
	}
}

func isDatabaseURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// resolve fills defaults, checks every value (an error names the key), makes
// paths absolute against dir, and reads the key files.
func (c *Config) resolve(dir string) error {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	if c.Store.Path != "" && c.Store.URL != "" {
		return errors.New("[store]: set path (SQLite) or url (PostgreSQL), not both")
	}
	if c.Store.URL != "" && !isDatabaseURL(string(c.Store.URL)) {
		return errors.New("[store] url: want postgres://… or postgresql://… (an SQLite file is [store] path)")
	}
	if c.Store.Path != "" {
		c.Store.Path = abs(c.Store.Path)
	}
	if c.Store.BillsDir != "" {
		c.Store.BillsDir = abs(c.Store.BillsDir)
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
	// Only an absent key takes the default: "0" is a choice (every
	// refund is confirmed by typing the order number).
	if c.Refund.ConfirmAbove == "" {
		c.Refund.ConfirmAbove = "1000.00"
	}
	if c.Refund.QueryAfter == "" {
		c.Refund.QueryAfter = "10s"
	}
	var errs []error
	if d, err := time.ParseDuration(c.Refund.QueryAfter); err != nil || d < 0 {
		errs = append(errs, fmt.Errorf("[refund] query_after %q: want a duration like \"10s\"", c.Refund.QueryAfter))
	} else {
		c.Refund.QueryAfterDuration = d
	}
	if p := c.Serve.PublicURL; p != "" {
		if u, err := url.Parse(p); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
			errs = append(errs, fmt.Errorf("[serve] public_url %q: want the https://host[/path] the platforms call", p))
		}
	}
	if c.Recon.SuspenseDays == 0 {
		c.Recon.SuspenseDays = 3
	}
	errs = append(errs, c.SSH.resolve(abs))
	if err := c.check(); err != nil {
		return errors.Join(append(errs, err)...)
	}
	if a := c.Alipay; a != nil {
		errs = append(errs, a.load(abs, &c.Warnings))
	}
	if w := c.WeChat; w != nil {
		errs = append(errs, w.load(abs, &c.Warnings))
		// Refunds of both APIs carry it: derived once here.
		w.RefundNotifyURL = c.WeChatRefundNotifyURL()
	}
	return errors.Join(errs...)
}

func (s *SSH) resolve(abs func(string) string) error {
	if s.HostKeyFile == "" {
		s.HostKeyFile = "keys/ssh_host_ed25519"
	}
	s.HostKeyFile = abs(s.HostKeyFile)
	if s.IdleTimeout == "" {
		s.IdleTimeout = "30m"
	}
	d, err := time.ParseDuration(s.IdleTimeout)
	if err != nil || d < 0 {
		return fmt.Errorf("[ssh] idle_timeout: %q is not a duration like \"30m\" or \"1h\"", s.IdleTimeout)
	}
	s.Idle = d
	return nil
}

func (a *Alipay) load(abs func(string) string, warnings *[]string) error {
	if err := a.loadMapi(abs, warnings); err != nil || !a.UsesOpenAPI() {
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
	switch a.SignType {
	case "":
		a.SignType = "RSA2"
	case "RSA2":
	case "RSA":
		if certMode {
			return errors.New("[alipay] sign_type = \"RSA\" needs alipay_public_key_file: certificate mode signs RSA2 only")
		}
	default:
		return fmt.Errorf("[alipay] sign_type %q: want \"RSA2\" (default) or \"RSA\"", a.SignType)
	}
	var err error
	if a.PrivateKey, err = readSecret("alipay", "private_key_file", abs(a.PrivateKeyFile), warnings); err != nil {
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

func (w *WeChat) load(abs func(string) string, warnings *[]string) error {
	if w.BaseURL == "" {
		w.BaseURL = "https://api.mch.weixin.qq.com" // both v2 and APIv3
	}
	if err := w.loadV2(abs, warnings); err != nil || !w.UsesV3() {
		return err
	}
	var missing []string
	for k, v := range map[string]string{"mchid": w.MchID, "appid": w.AppID, "merchant_serial_no": w.MerchantSerialNo,
		"private_key_file": w.PrivateKeyFile} {
		if v == "" {
			missing = append(missing, k)
		}
	}
	if w.APIv3KeyEnv == "" && w.APIv3KeyFile == "" {
		missing = append(missing, "apiv3_key_env (or apiv3_key_file)")
	}
	pubKey := w.PlatformPublicKeyID != "" || w.PlatformPublicKeyFile != ""
	switch {
	case pubKey && w.PlatformPublicKeyID == "":
		missing = append(missing, "platform_public_key_id (beside platform_public_key_file)")
	case pubKey && w.PlatformPublicKeyFile == "":
		missing = append(missing, "platform_public_key_file (beside platform_public_key_id)")
	case !pubKey && len(w.PlatformCertFiles) == 0 && !w.PlatformCertDownload:
		missing = append(missing, "platform_public_key_id and platform_public_key_file, or platform_cert_files, or platform_cert_download = true")
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("[wechat]: missing %s", strings.Join(missing, ", "))
	}
	var err error
	if w.PrivateKey, err = readSecret("wechat", "private_key_file", abs(w.PrivateKeyFile), warnings); err != nil {
		return err
	}
	if pubKey {
		if w.PlatformPublicKey, err = readKey("wechat", "platform_public_key_file", abs(w.PlatformPublicKeyFile)); err != nil {
			return err
		}
	}
	for i, f := range w.PlatformCertFiles {
		b, err := readKey("wechat", fmt.Sprintf("platform_cert_files[%d]", i), abs(f))
		if err != nil {
			return err
		}
		w.PlatformCerts = append(w.PlatformCerts, b)
	}
	var key []byte
	switch {
	case w.APIv3KeyFile != "":
		if key, err = readSecret("wechat", "apiv3_key_file", abs(w.APIv3KeyFile), warnings); err != nil {
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
