package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
)

func newSandboxCmd() *cobra.Command {
	var listen, dir, notify, wechatAPI, wechatV2Sign, wechatSign, alipaySign, alipayCharset string
	cmd := &cobra.Command{
		Use:   "sandbox [--listen ADDR] [--dir DIR] [--wechat-api v2] [--wechat-sign pubkey|cert|mixed]",
		Short: "Run simulated Alipay and WeChat Pay platforms on one listener",
		Long: `Run both simulated platforms: the Alipay OpenAPI gateway and WeChat Pay APIv3, with
their own keys, signed requests and responses, refunds, bills and notifications that
are retried until acknowledged. DIR receives the platform public keys, the merchant
keys the sandbox accepts and a paydesk.toml pointing at it; the sandbox's own keys
are kept there too, so a restart keeps the same identities.

--wechat-sign chooses the key WeChat Pay signs APIv3 answers and callbacks with: its
public key (PUB_KEY_ID_…), its platform certificate (also served at /v3/certificates),
or mixed, each message signed by either at random, as during a merchant's move from
certificates to the public key. --alipay-sign-type RSA makes the Alipay app an older
RSA (SHA1withRSA) one; --alipay-charset gbk sends Alipay's callbacks in GBK.

The same port speaks HTTPS (with a CA of the sandbox's own, written to
keys/sandbox_ca.pem), which WeChat Pay v2 refunds need: they are mutual TLS with
the merchant API certificate (keys/apiclient_cert.pem). --wechat-api v2 writes
the config of a v2-only WeChat merchant (api = "v2", the API key, the
certificate) and sends v2 XML callbacks; --wechat-v2-sign picks MD5 or
HMAC-SHA256. The legacy Alipay gateway (即时到账: MD5 callbacks, notify_verify)
is at /mapi/gateway.do; a trade's callbacks go through it with the fault
{"alipay_mapi":true}.

Drive it with paydesk itself, or with its control API:
  POST   /sandbox/trades     {"channel","out_trade_no","amount","subject","pay":true}
  POST   /sandbox/refunds    {"channel","out_trade_no","amount","reason"}  (a "web console" refund)
  POST   /sandbox/faults     {"channel","out_trade_no","fault":{...}}
           fault: delay, hang, server_error, refund_pending, refund_ends (ABNORMAL|FAILED|SUCCESS),
           refund_rate_limited, refund_system_error, refund_not_carried_out, drop_notify,
           duplicate_notify, bad_signature, tamper_amount, stale_by, book_late,
           notify_sign_type (RSA), notify_charset (gbk), answer_sign_type (RSA)
  DELETE /sandbox/faults
  GET    /sandbox/deliveries`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return err
			}
			keys, err := sandbox.LoadKeys(dir)
			if errors.Is(err, fs.ErrNotExist) {
				logger.Info("generating sandbox keys", "dir", dir)
				if keys, err = sandbox.GenerateKeys(); err == nil {
					err = keys.SaveKeys(dir)
				}
			}
			if err != nil {
				return err
			}
			sign, err := sandbox.ParseWeChatSign(wechatSign)
			if err != nil {
				return usageError{fmt.Errorf("--wechat-sign: %w", err)}
			}
			sb, err := sandbox.New(sandbox.Config{Keys: keys, Logger: logger, NotifyURL: map[gateway.Channel]string{
				gateway.Alipay: notify + "/notify/alipay", gateway.WeChat: notify + "/notify/wechat",
			}, WeChatAPI: wechatAPI, WeChatV2SignType: wechatV2Sign, WeChatSign: sign, AlipaySignType: alipaySign, AlipayCharset: alipayCharset})
			if err != nil {
				return usagef("%v", err)
			}
			// Key sets from before the legacy protocols, or the platform
			// certificate, get theirs now.
			if err := sb.Keys().SaveKeys(dir); err != nil {
				return err
			}
			if err := sb.Start(listen); err != nil {
				return err
			}
			defer sb.Close()
			files, err := sb.WriteClientFiles(dir, "paydesk.db")
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "sandbox listening on %s\n", sb.URL())
			fmt.Fprintf(out, "  alipay gateway   %s%s\n", sb.URL(), sandbox.AlipayGatewayPath)
			fmt.Fprintf(out, "  wechat base url  %s (v3 signing with: %s; v2, mutual TLS: %s)\n", sb.URL(), sign, sb.TLSURL())
			fmt.Fprintf(out, "  alipay mapi      %s%s (legacy notify_verify)\n", sb.URL(), sandbox.AlipayMapiPath)
			fmt.Fprintf(out, "  notifications to %s/notify/{alipay,wechat}\n", notify)
			fmt.Fprintf(out, "  client config    %s\n", filepath.Join(dir, files.Config))
			fmt.Fprintf(out, "try: paydesk --config %s serve --listen %s\n", filepath.Join(dir, files.Config), trimScheme(notify))
			<-cmd.Context().Done()
			fmt.Fprintln(out, "sandbox stopping")
			return nil
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8090", "address the simulated platforms listen on")
	cmd.Flags().StringVar(&dir, "dir", "sandbox", "folder for the keys and the client paydesk.toml")
	cmd.Flags().StringVar(&notify, "notify", "http://127.0.0.1:8080", "base URL of the paydesk serve that receives notifications")
	cmd.Flags().StringVar(&wechatAPI, "wechat-api", "v3", "the WeChat merchant the client config describes, and its callbacks: v3, or v2 (XML)")
	cmd.Flags().StringVar(&wechatV2Sign, "wechat-v2-sign", "MD5", "how v2 callbacks are signed: MD5 or HMAC-SHA256")
	cmd.Flags().StringVar(&wechatSign, "wechat-sign", "pubkey", "key WeChat Pay signs APIv3 with: pubkey, cert or mixed")
	cmd.Flags().StringVar(&alipaySign, "alipay-sign-type", "RSA2", "the Alipay app's sign type: RSA2 or RSA (SHA1, older apps)")
	cmd.Flags().StringVar(&alipayCharset, "alipay-charset", "utf-8", "charset of Alipay's callbacks: utf-8 or gbk")
	return cmd
}

func trimScheme(u string) string {
	for _, p := range []string{"http://", "https://"} {
		if len(u) > len(p) && u[:len(p)] == p {
			return u[len(p):]
		}
	}
	return u
}
