// Package workspace owns the wiring from a loaded paydesk.toml to a working
// ops.Service: the platform clients of the configured channels, the store,
// the operator. The CLI, the console and the demo all open a workspace the
// same way.
package workspace

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/alipay"
	"github.com/paydesk/paydesk/gateway/wechat"
	"github.com/paydesk/paydesk/internal/config"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/store"
)

// Workspace is an opened paydesk: its config, store and service.
type Workspace struct {
	Config  *config.Config
	Store   *store.Store
	Service *ops.Service
}

// Options override what the config says.
type Options struct {
	DBPath   string // --db: an SQLite path or a PostgreSQL URL
	Operator string // --operator
	// Role overrides the config's role (the demo runs as admin).
	Role   ops.Role
	Logger *slog.Logger
	// HTTPClient carries platform requests; nil means a 30 s timeout.
	HTTPClient *http.Client
	Now        func() time.Time
}

// ErrNoStore means no database path is known.
var ErrNoStore = errors.New("no database")

// Open builds the platform clients, opens the store and makes the service.
func Open(cfg *config.Config, opt Options) (*Workspace, error) {
	dbPath := cfg.Store.DB()
	if opt.DBPath != "" {
		dbPath = opt.DBPath
	}
	if dbPath == "" {
		if cfg.File == "" {
			return nil, fmt.Errorf("%w: no %s found here: pass --config FILE or --db PATH (or run `paydesk demo`)", ErrNoStore, config.DefaultFile)
		}
		return nil, fmt.Errorf("%w: config %s: neither [store] path nor [store] url is set", ErrNoStore, cfg.File)
	}
	zone, err := time.LoadLocation(cfg.Zone)
	if err != nil {
		return nil, fmt.Errorf("config: zone %q: %w", cfg.Zone, err)
	}
	op, err := operator(cfg, opt)
	if err != nil {
		return nil, err
	}
	platforms, err := Platforms(cfg, zone, opt.HTTPClient)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(dbPath)
	if err != nil {
		return nil, err
	}
	bills := cfg.Store.BillsDir
	if bills == "" && st.Dir() == "" && cfg.File != "" {
		// PostgreSQL has no file to keep bills beside: keep them beside
		// the config.
		bills = filepath.Join(filepath.Dir(cfg.File), "bills")
	}
	queryAfter := cfg.Refund.QueryAfterDuration
	if queryAfter == 0 {
		queryAfter = -1 // "0s" in the file: no wait (ops reads 0 as its default)
	}
	svc, err := ops.New(ops.Options{Store: st, Platforms: platforms, Operator: op, Zone: zone, Logger: opt.Logger, Now: opt.Now,
		SuspenseDays: cfg.Recon.SuspenseDays, FeeRates: cfg.Recon.FeeRates, RefundQueryAfter: queryAfter, QueryQPS: cfg.Query.QPS,
		IntakeCap: ops.IntakeCap{BytesPerMinute: cfg.Serve.UnverifiedBytesPerMinute, RowsPerMinute: cfg.Serve.UnverifiedRowsPerMinute},
		Merchants: Merchants(cfg), BillsDir: bills})
	if err != nil {
		st.Close()
		return nil, err
	}
	return &Workspace{Config: cfg, Store: st, Service: svc}, nil
}

// Close closes the store.
func (w *Workspace) Close() error { return w.Store.Close() }

// Platforms builds a client for each configured platform.
func Platforms(cfg *config.Config, zone *time.Location, hc *http.Client) (map[gateway.Channel]gateway.Platform, error) {
	out := map[gateway.Channel]gateway.Platform{}
	if a := cfg.Alipay; a != nil && a.UsesOpenAPI() {
		c, err := alipay.New(alipay.Config{
			AppID: a.AppID, PrivateKeyPEM: a.PrivateKey, AlipayPublicKeyPEM: a.AlipayPublicKey,
			AppCertPEM: a.AppCert, AlipayCertPEM: a.AlipayCert, AlipayRootCertPEM: a.AlipayRootCert,
			GatewayURL: a.Gateway, HTTPClient: hc, Zone: zone, SignType: a.SignType,
		})
		if err != nil {
			return nil, fmt.Errorf("config [alipay]: %w", err)
		}
		out[gateway.Alipay] = c
	}
	if w := cfg.WeChat; w != nil && w.UsesV3() {
		c, err := wechat.New(wechat.Config{
			MchID: w.MchID, AppID: w.AppID, MerchantSerialNo: w.MerchantSerialNo, PrivateKeyPEM: w.PrivateKey,
			APIv3Key: string(w.APIv3Key), PlatformPublicKeyID: w.PlatformPublicKeyID, PlatformPublicKeyPEM: w.PlatformPublicKey,
			PlatformCertPEMs: w.PlatformCerts, PlatformCertDownload: w.PlatformCertDownload, RefundNotifyURL: cfg.WeChatRefundNotifyURL(),
			BaseURL: w.BaseURL, HTTPClient: hc, Zone: zone,
		})
		if err != nil {
			return nil, fmt.Errorf("config [wechat]: %w", err)
		}
		out[gateway.WeChat] = c
	}
	if err := legacyPlatforms(cfg, zone, hc, out); err != nil { // legacy.go
		return nil, err
	}
	return out, nil
}

// Merchants are the merchant ids the configured channels' bills must
// belong to: [wechat] mchid and [alipay] pid.
func Merchants(cfg *config.Config) map[gateway.Channel]string {
	out := map[gateway.Channel]string{}
	if a := cfg.Alipay; a != nil && a.PID != "" {
		out[gateway.Alipay] = a.PID
	}
	if w := cfg.WeChat; w != nil && w.MchID != "" {
		out[gateway.WeChat] = w.MchID
	}
	return out
}

// operator settles who is acting: the option (--operator), else the config
// (where $PAYDESK_OPERATOR already overrode the file), else $USER. The role
// comes from the config only, so a flag cannot raise it; without one it is
// viewer.
func operator(cfg *config.Config, opt Options) (ops.Operator, error) {
	name := opt.Operator
	if name == "" {
		name = cfg.Operator.Name
	}
	if name == "" {
		name = os.Getenv("USER")
	}
	if name == "" {
		if u, err := user.Current(); err == nil {
			name = u.Username
		}
	}
	if name == "" {
		return ops.Operator{}, errors.New("no operator name: set [operator] name, --operator or $PAYDESK_OPERATOR")
	}
	role := opt.Role
	if role == "" {
		role = ops.Viewer
		if cfg.Operator.Role != "" {
			var err error
			if role, err = ops.ParseRole(cfg.Operator.Role); err != nil {
				return ops.Operator{}, fmt.Errorf("config [operator] role: %w", err)
			}
		}
	}
	return ops.Operator{Name: name, Role: role}, nil
}
