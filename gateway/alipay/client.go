package alipay

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	sdk "github.com/smartwalle/alipay/v3"

	"github.com/paydesk/paydesk/gateway"
)

// DefaultGatewayURL is Alipay's production OpenAPI gateway.
const DefaultGatewayURL = "https://openapi.alipay.com/gateway.do"

// Config is one merchant app at Alipay. Give either AlipayPublicKeyPEM
// (public-key mode) or all three certificates (certificate mode).
type Config struct {
	AppID string
	// PrivateKeyPEM is the app private key: PKCS#1 or PKCS#8, PEM or the
	// bare base64 Alipay's key tool writes.
	PrivateKeyPEM []byte
	// AlipayPublicKeyPEM is Alipay's public key (public-key mode).
	AlipayPublicKeyPEM []byte
	// Certificate mode: appCertPublicKey_<app_id>.crt,
	// alipayCertPublicKey_RSA2.crt and alipayRootCert.crt.
	AppCertPEM, AlipayCertPEM, AlipayRootCertPEM []byte
	// GatewayURL defaults to DefaultGatewayURL; the sandbox's is
	// <sandbox>/gateway.do.
	GatewayURL string
	// HTTPClient defaults to a client with a 30 s timeout.
	HTTPClient *http.Client
	// Zone is where Alipay's local times are read and bill dates cut;
	// default gateway.Shanghai.
	Zone *time.Location
	// SignType is the app's signature type: SignRSA2 (default) or, for
	// older apps set up with an RSA (SHA1) key, SignRSA. Requests are
	// signed with it, and only answers and notifications signed with it
	// are accepted: an RSA-signed notification to an RSA2 app is refused
	// as a downgrade.
	SignType string
}

// Client is gateway.Platform for one Alipay app, built on
// github.com/smartwalle/alipay/v3 for request signing and response
// verification.
type Client struct {
	appID     string
	api       *sdk.Client
	web       *http.Client // the caller's client as given: bill downloads
	verifyKey *rsa.PublicKey
	keyName   string // the verifying key as notification details name it
	signType  string
	zone      *time.Location
}

var _ gateway.Platform = (*Client)(nil)

// maxResponse bounds an API answer; Alipay's are a few kilobytes.
const maxResponse = 1 << 20

// maxBillZip bounds a downloaded bill zip; a million-row day compresses to
// some tens of megabytes.
const maxBillZip = 1 << 30

// New checks the configuration (keys parse, certificates chain to the root,
// the app certificate matches the private key) and returns a client.
func New(cfg Config) (*Client, error) {
	if cfg.AppID == "" {
		return nil, errors.New("alipay: app_id is empty")
	}
	priv, err := parsePrivateKey(cfg.PrivateKeyPEM)
	if err != nil {
		return nil, fmt.Errorf("alipay: app %w", err)
	}
	zone := cfg.Zone
	if zone == nil {
		zone = gateway.Shanghai
	}
	gw := cfg.GatewayURL
	if gw == "" {
		gw = DefaultGatewayURL
	}
	web := cfg.HTTPClient
	if web == nil {
		web = &http.Client{Timeout: 30 * time.Second}
	}
	// The SDK's requests go through a copy of the caller's client whose
	// transport keeps the HTTP status and the raw body of each answer: the
	// status tells a 5xx from a refusal, and the body is the verified Raw.
	api := *web
	base := web.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	switch cfg.SignType {
	case "":
		cfg.SignType = SignRSA2
	case SignRSA2:
	case SignRSA:
		base = &rsa1Transport{key: priv, next: base}
	default:
		return nil, fmt.Errorf("alipay: sign_type %q: want RSA2 or RSA", cfg.SignType)
	}
	api.Transport = &captureTransport{base: base}

	certMode := len(cfg.AppCertPEM) > 0 || len(cfg.AlipayCertPEM) > 0 || len(cfg.AlipayRootCertPEM) > 0
	switch {
	case certMode && cfg.SignType == SignRSA:
		// Certificate mode exists for RSA2 keys only (alipayCertPublicKey_RSA2.crt).
		return nil, errors.New("alipay: sign_type RSA works with a public key only; certificate mode signs RSA2")
	case certMode && len(cfg.AlipayPublicKeyPEM) > 0:
		return nil, errors.New("alipay: both an Alipay public key and certificates configured; choose one mode")
	case certMode && (len(cfg.AppCertPEM) == 0 || len(cfg.AlipayCertPEM) == 0 || len(cfg.AlipayRootCertPEM) == 0):
		return nil, errors.New("alipay: certificate mode needs the app certificate, the Alipay certificate and the Alipay root certificate")
	case !certMode && len(cfg.AlipayPublicKeyPEM) == 0:
		return nil, errors.New("alipay: no Alipay public key and no certificates configured")
	}

	// production=false keeps the SDK from fetching an Alipay certificate it
	// does not know (alipay.open.app.alipaycert.download) and trusting it
	// without checking it against the root: an answer signed under an
	// unknown alipay_cert_sn is an error, and a rotated certificate is
	// installed by the merchant. The gateway URL is set explicitly, so the
	// flag changes nothing else we use.
	opts := []sdk.OptionFunc{sdk.WithSandboxGateway(gw), sdk.WithHTTPClient(&api), sdk.WithTimeLocation(zone)}
	var pub *rsa.PublicKey
	if !certMode {
		if pub, err = parsePublicKey(cfg.AlipayPublicKeyPEM); err != nil {
			return nil, fmt.Errorf("alipay: Alipay %w", err)
		}
		if cfg.SignType == SignRSA {
			// The SDK verifies answers with SHA256 only; this verifier
			// checks the RSA (SHA1) answers such an app receives.
			opts = append(opts, sdk.WithVerifier("alipay-public-key-rsa", sha1Verifier{pub}))
		}
	}
	api2, err := sdk.New(cfg.AppID, pkcs1PEM(priv), false, opts...)
	if err != nil {
		return nil, fmt.Errorf("alipay: %w", err)
	}
	c := &Client{appID: cfg.AppID, api: api2, web: web, zone: zone, signType: cfg.SignType}
	if certMode {
		appCerts := parseCerts(cfg.AppCertPEM)
		if len(appCerts) == 0 {
			return nil, errors.New("alipay: app certificate: no certificate in the file")
		}
		if pub, ok := appCerts[0].PublicKey.(*rsa.PublicKey); !ok || !pub.Equal(&priv.PublicKey) {
			return nil, errors.New("alipay: the app certificate is not for the configured app private key")
		}
		var sn string
		if c.verifyKey, sn, err = alipayCertKey(cfg.AlipayCertPEM, cfg.AlipayRootCertPEM, time.Now()); err != nil {
			return nil, fmt.Errorf("alipay: %w", err)
		}
		c.keyName = "RSA2 Alipay certificate " + sn
		if err := api2.LoadAppCertPublicKey(string(cfg.AppCertPEM)); err != nil {
			return nil, fmt.Errorf("alipay: app certificate: %w", err)
		}
		if err := api2.LoadAliPayRootCert(string(cfg.AlipayRootCertPEM)); err != nil {
			return nil, fmt.Errorf("alipay: root certificate: %w", err)
		}
		if err := api2.LoadAlipayCertPublicKey(string(cfg.AlipayCertPEM)); err != nil {
			return nil, fmt.Errorf("alipay: alipay certificate: %w", err)
		}
	} else {
		c.verifyKey = pub
		c.keyName = cfg.SignType + " Alipay public key"
		if cfg.SignType == SignRSA {
			c.keyName = "RSA (SHA1) Alipay public key"
		} else if err := api2.LoadAliPayPublicKey(pkixPEM(pub)); err != nil {
			return nil, fmt.Errorf("alipay: Alipay public key: %w", err)
		}
	}
	return c, nil
}

// Channel is gateway.Alipay.
func (c *Client) Channel() gateway.Channel { return gateway.Alipay }

// APIError is an answer other than success from the OpenAPI gateway.
type APIError struct {
	Method  string
	Code    string // 40004 ...
	Msg     string
	SubCode string // ACQ.TRADE_NOT_EXIST ...
	SubMsg  string
	// Verified says the answer carried a valid signature. Gateway
	// rejections (bad signature, unknown app) come unsigned.
	Verified bool
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("alipay %s: %s %s", e.Method, e.Code, e.Msg)
	if e.SubCode != "" {
		s += ": " + e.SubCode
	}
	if e.SubMsg != "" {
		s += " " + e.SubMsg
	}
	if !e.Verified {
		s += " (unsigned answer)"
	}
	return s
}

// Unwrap maps the verified sub codes a caller acts on to gateway's errors.
func (e *APIError) Unwrap() error {
	if !e.Verified {
		return nil
	}
	switch e.SubCode {
	case "ACQ.TRADE_NOT_EXIST":
		return gateway.ErrTradeNotFound
	case "isp.bill_not_exist", "isp.bill_not_exits":
		return gateway.ErrBillNotReady
	}
	return nil
}

// unknownOutcome says whether a verified refusal still leaves the outcome
// open: Alipay's system errors ask the caller to retry the same request.
func (e *APIError) unknownOutcome() bool {
	return e.Code == "20000" || e.SubCode == "ACQ.SYSTEM_ERROR" || strings.HasPrefix(e.SubCode, "isp.unknow")
}

func apiError(method string, e sdk.Error, verified bool) *APIError {
	return &APIError{Method: method, Code: string(e.Code), Msg: e.Msg, SubCode: e.SubCode, SubMsg: e.SubMsg, Verified: verified}
}

// captureTransport records the status and body of the answer to a request
// whose context carries a *capture.
type captureTransport struct{ base http.RoundTripper }

type captureKey struct{}

type capture struct {
	status int
	body   []byte
}

func (t *captureTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	cp, _ := req.Context().Value(captureKey{}).(*capture)
	if err != nil || cp == nil {
		return resp, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	cp.status = resp.StatusCode
	if len(body) > maxResponse {
		return nil, fmt.Errorf("answer larger than %d bytes", maxResponse)
	}
	cp.body = body
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// call runs one SDK request and sorts out what came back. A nil error means
// a verified answer (success or business failure: the caller checks the
// code) whose raw body is returned. Any error means there is no verified
// answer, so the request may or may not have been carried out.
func (c *Client) call(ctx context.Context, method string, do func(context.Context) error) (raw []byte, err error) {
	cp := &capture{}
	err = do(context.WithValue(ctx, captureKey{}, cp))
	if err == nil {
		return cp.body, nil
	}
	var e *sdk.Error
	switch {
	case cp.status == 0:
		// No answer at all: refused connection, timeout, cancelled.
		return nil, fmt.Errorf("alipay %s: no answer: %w", method, err)
	case cp.status >= 500:
		return cp.body, fmt.Errorf("alipay %s: HTTP %d from the gateway", method, cp.status)
	case errors.As(err, &e):
		// The SDK hands back an unsigned error object as an error.
		return cp.body, apiError(method, *e, false)
	default:
		// A body that does not verify: changed in transit, signed by
		// another key, or not Alipay's answer at all.
		return cp.body, fmt.Errorf("alipay %s: %w: %v (HTTP %d)", method, gateway.ErrBadSignature, err, cp.status)
	}
}

// QueryTrade asks alipay.trade.query for the trade's live state.
func (c *Client) QueryTrade(ctx context.Context, outTradeNo string) (gateway.Trade, error) {
	const method = "alipay.trade.query"
	if err := limitOutTradeNo.Check(gateway.Alipay, outTradeNo); err != nil {
		return gateway.Trade{}, fmt.Errorf("alipay %s: %w", method, err)
	}
	var rsp *sdk.TradeQueryRsp
	raw, err := c.call(ctx, method, func(ctx context.Context) (err error) {
		rsp, err = c.api.TradeQuery(ctx, sdk.TradeQuery{OutTradeNo: outTradeNo})
		return err
	})
	if err != nil {
		return gateway.Trade{}, err
	}
	if rsp.IsFailure() {
		return gateway.Trade{}, apiError(method, rsp.Error, true)
	}
	// A signed answer can be replayed; only one about this order counts.
	if rsp.OutTradeNo != outTradeNo {
		return gateway.Trade{}, fmt.Errorf("alipay %s: answer is about order %q, asked about %q", method, rsp.OutTradeNo, outTradeNo)
	}
	amount, err := gateway.ParseMoney(rsp.TotalAmount)
	if err != nil {
		return gateway.Trade{}, fmt.Errorf("alipay %s: total_amount: %w", method, err)
	}
	t := gateway.Trade{
		Channel:       gateway.Alipay,
		OutTradeNo:    rsp.OutTradeNo,
		TradeNo:       rsp.TradeNo,
		PlatformState: string(rsp.TradeStatus),
		Amount:        amount,
		Currency:      "CNY",
		BuyerID:       cmpOr(rsp.BuyerUserId, rsp.BuyerOpenId),
		Raw:           raw,
	}
	if rsp.TransCurrency != "" {
		t.Currency = rsp.TransCurrency
	}
	if rsp.SendPayDate != "" {
		if t.PaidAt, err = time.ParseInLocation(time.DateTime, rsp.SendPayDate, c.zone); err != nil {
			return gateway.Trade{}, fmt.Errorf("alipay %s: send_pay_date %q: %w", method, rsp.SendPayDate, err)
		}
	}
	switch rsp.TradeStatus {
	case sdk.TradeStatusWaitBuyerPay:
		t.State = gateway.TradeNotPaid
	case sdk.TradeStatusSuccess, sdk.TradeStatusFinished:
		t.State = gateway.TradePaid
	case sdk.TradeStatusClosed:
		// TRADE_CLOSED is both "never paid" and "paid, then refunded in
		// full". A closed trade that shows a payment date or a paid amount
		// was paid, so it was closed by its refund.
		t.State = gateway.TradeClosed
		if rsp.SendPayDate != "" || positive(rsp.BuyerPayAmount) || positive(rsp.ReceiptAmount) {
			t.State = gateway.TradeRefunded
		}
	default:
		return gateway.Trade{}, fmt.Errorf("alipay %s: unknown trade_status %q", method, rsp.TradeStatus)
	}
	return t, nil
}

func positive(yuan string) bool {
	m, err := gateway.ParseMoney(yuan)
	return err == nil && m > 0
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Refund sends alipay.trade.refund. Alipay refunds synchronously: a
// verified answer with fund_change=Y is a success; fund_change=N (a repeat
// of a request number, or money not moved yet) is settled by asking
// alipay.trade.fastpay.refund.query. Anything short of a verified answer is
// ErrUnknownOutcome: the refund stays PENDING and is re-sent with the same
// request number or queried later.
func (c *Client) Refund(ctx context.Context, req gateway.RefundRequest) (gateway.RefundResult, error) {
	const method = "alipay.trade.refund"
	if req.OutRequestNo == "" {
		return gateway.RefundResult{}, fmt.Errorf("alipay %s: out_request_no is empty", method)
	}
	if req.OutTradeNo == "" && req.TradeNo == "" {
		return gateway.RefundResult{}, fmt.Errorf("alipay %s: neither out_trade_no nor trade_no given", method)
	}
	if req.Amount <= 0 {
		return gateway.RefundResult{}, fmt.Errorf("alipay %s: refund amount %s is not positive", method, req.Amount)
	}
	if err := c.CheckRefund(req); err != nil {
		return gateway.RefundResult{}, fmt.Errorf("alipay %s: %w", method, err)
	}
	var rsp *sdk.TradeRefundRsp
	raw, err := c.call(ctx, method, func(ctx context.Context) (err error) {
		rsp, err = c.api.TradeRefund(ctx, sdk.TradeRefund{
			OutTradeNo:   req.OutTradeNo,
			TradeNo:      req.TradeNo,
			RefundAmount: req.Amount.String(),
			RefundReason: req.Reason,
			OutRequestNo: req.OutRequestNo,
		})
		return err
	})
	if err != nil {
		return gateway.RefundResult{}, fmt.Errorf("%w: %w", gateway.ErrUnknownOutcome, err)
	}
	if rsp.IsFailure() {
		e := apiError(method, rsp.Error, true)
		if e.unknownOutcome() {
			return gateway.RefundResult{}, fmt.Errorf("%w: %w", gateway.ErrUnknownOutcome, e)
		}
		return gateway.RefundResult{}, e
	}
	if (req.OutTradeNo != "" && rsp.OutTradeNo != req.OutTradeNo) || (req.TradeNo != "" && rsp.TradeNo != req.TradeNo) {
		// Signed but about another trade: proves nothing about ours.
		return gateway.RefundResult{}, fmt.Errorf("%w: alipay %s: answer is about trade %q/%q", gateway.ErrUnknownOutcome, method, rsp.OutTradeNo, rsp.TradeNo)
	}
	res := gateway.RefundResult{
		OutTradeNo:    rsp.OutTradeNo,
		OutRequestNo:  req.OutRequestNo,
		Status:        gateway.RefundPending,
		PlatformState: "fund_change=" + rsp.FundChange,
		Amount:        req.Amount,
		Raw:           raw,
	}
	if rsp.FundChange == "Y" {
		res.Status = gateway.RefundSuccess
		// The SDK's struct lacks gmt_refund_pay; the verified body has it.
		if at, ok := c.parseTime(responseField(raw, method, "gmt_refund_pay")); ok {
			res.RefundedAt = at
		}
		return res, nil
	}
	// fund_change=N: the query tells a repeated success from a refund not
	// done yet. If the query fails the refund stays PENDING, which is
	// the truth as far as we know it.
	q, err := c.QueryRefund(ctx, rsp.OutTradeNo, req.OutRequestNo)
	if err == nil && q.Status == gateway.RefundSuccess {
		if q.Amount != req.Amount {
			// Money moved under this request number, but not what we
			// asked: never a definite refusal (that would free the
			// ceiling); the refund stays pending for a person.
			return gateway.RefundResult{}, fmt.Errorf("%w: alipay %s: request %s was refunded for %s, not %s", gateway.ErrUnknownOutcome, method, req.OutRequestNo, q.Amount, req.Amount)
		}
		q.OutTradeNo = rsp.OutTradeNo
		return q, nil
	}
	return res, nil
}

// QueryRefund asks alipay.trade.fastpay.refund.query about one request.
// Alipay answers a request number it does not know with a bare success, and
// one it got but did not carry out without refund_status: both are
// ErrRefundNotFound, since the documented meaning of a missing refund_status
// is "the refund request was not received, or the refund failed" (退款状态
// …未返回该字段表示退款请求未收到或者退款失败; smartwalle/alipay
// trade_type.go), and the cure for both is the same: send the same
// out_request_no with the same amount again. The query is only meaningful
// some seconds after the refund (Alipay asks for 10 s or more: ops waits
// [refund] query_after).
func (c *Client) QueryRefund(ctx context.Context, outTradeNo, outRequestNo string) (gateway.RefundResult, error) {
	const method = "alipay.trade.fastpay.refund.query"
	if err := gateway.CheckFields(gateway.Alipay, gateway.FieldValue{Limit: limitOutTradeNo, Value: outTradeNo},
		gateway.FieldValue{Limit: limitOutRequestNo, Value: outRequestNo}); err != nil {
		return gateway.RefundResult{}, fmt.Errorf("alipay %s: %w", method, err)
	}
	var rsp *sdk.TradeFastPayRefundQueryRsp
	raw, err := c.call(ctx, method, func(ctx context.Context) (err error) {
		rsp, err = c.api.TradeFastPayRefundQuery(ctx, sdk.TradeFastPayRefundQuery{
			OutTradeNo:   outTradeNo,
			OutRequestNo: outRequestNo,
			QueryOptions: []string{"gmt_refund_pay"},
		})
		return err
	})
	if err != nil {
		return gateway.RefundResult{}, err
	}
	if rsp.IsFailure() {
		e := apiError(method, rsp.Error, true)
		if e.SubCode == "ACQ.TRADE_NOT_EXIST" {
			return gateway.RefundResult{}, fmt.Errorf("%w: %w", gateway.ErrRefundNotFound, e)
		}
		return gateway.RefundResult{}, e
	}
	if rsp.OutTradeNo != "" && rsp.OutTradeNo != outTradeNo {
		return gateway.RefundResult{}, fmt.Errorf("alipay %s: answer is about order %q, asked about %q", method, rsp.OutTradeNo, outTradeNo)
	}
	if rsp.OutRequestNo == "" && rsp.RefundAmount == "" {
		return gateway.RefundResult{}, fmt.Errorf("%w: %s on order %s", gateway.ErrRefundNotFound, outRequestNo, outTradeNo)
	}
	if rsp.RefundStatus == "" {
		return gateway.RefundResult{}, fmt.Errorf("%w: %s on order %s is known but has no refund_status: not carried out (not received, or failed)",
			gateway.ErrRefundNotFound, outRequestNo, outTradeNo)
	}
	if rsp.OutRequestNo != "" && rsp.OutRequestNo != outRequestNo {
		return gateway.RefundResult{}, fmt.Errorf("alipay %s: answer is about request %q, asked about %q", method, rsp.OutRequestNo, outRequestNo)
	}
	amount, err := gateway.ParseMoney(rsp.RefundAmount)
	if err != nil {
		return gateway.RefundResult{}, fmt.Errorf("alipay %s: refund_amount: %w", method, err)
	}
	res := gateway.RefundResult{
		OutTradeNo:    outTradeNo,
		OutRequestNo:  outRequestNo,
		Status:        gateway.RefundPending,
		PlatformState: rsp.RefundStatus,
		Amount:        amount,
		Raw:           raw,
	}
	if rsp.RefundStatus == "REFUND_SUCCESS" {
		res.Status = gateway.RefundSuccess
		if at, ok := c.parseTime(rsp.GMTRefundPay); ok {
			res.RefundedAt = at
		}
	}
	return res, nil
}

// responseField reads one string field of the response object from the
// verified body, for fields the SDK's response structs do not carry.
func responseField(raw []byte, method, field string) string {
	var outer map[string]json.RawMessage
	if json.Unmarshal(raw, &outer) != nil {
		return ""
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(outer[strings.ReplaceAll(method, ".", "_")+"_response"], &obj) != nil {
		return ""
	}
	var s string
	if json.Unmarshal(obj[field], &s) != nil {
		return ""
	}
	return s
}

func (c *Client) parseTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	for _, layout := range []string{time.DateTime, "2006-01-02 15:04:05.000"} {
		if t, err := time.ParseInLocation(layout, s, c.zone); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// DownloadBill asks alipay.data.dataservice.bill.downloadurl.query for the
// trade bill of day's business date and streams the zip it names (the URL
// lives for about 30 seconds) to dst as it arrives: the zip as served, its
// detail and summary files inside, never held in memory. Alipay gives no
// hash of its bills; the entries' CRC-32 is checked when the zip is read.
func (c *Client) DownloadBill(ctx context.Context, day time.Time, dst io.Writer) (gateway.BillFile, error) {
	return c.downloadBill(ctx, day, "trade", dst)
}

// DownloadFundBill is DownloadBill for the 账务明细 (bill_type signcustomer:
// every movement of the account's balance): the zip streams to dst as
// served, and OpenFundBill reads its …_账务明细.csv where it lies.
func (c *Client) DownloadFundBill(ctx context.Context, day time.Time, dst io.Writer) (gateway.BillFile, error) {
	return c.downloadBill(ctx, day, "signcustomer", dst)
}

// downloadBill fetches the bill zip of one bill_type and streams it to dst.
func (c *Client) downloadBill(ctx context.Context, day time.Time, billType string, dst io.Writer) (gateway.BillFile, error) {
	const method = "alipay.data.dataservice.bill.downloadurl.query"
	date := day.In(c.zone).Format(time.DateOnly)
	var rsp *sdk.BillDownloadURLQueryRsp
	_, err := c.call(ctx, method, func(ctx context.Context) (err error) {
		rsp, err = c.api.BillDownloadURLQuery(ctx, sdk.BillDownloadURLQuery{BillType: billType, BillDate: date})
		return err
	})
	if err != nil {
		return gateway.BillFile{}, err
	}
	if rsp.IsFailure() {
		return gateway.BillFile{}, fmt.Errorf("bill of %s: %w", date, apiError(method, rsp.Error, true))
	}
	if rsp.BillDownloadURL == "" {
		return gateway.BillFile{}, fmt.Errorf("alipay %s: no bill_download_url for %s", method, date)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rsp.BillDownloadURL, nil)
	if err != nil {
		return gateway.BillFile{}, fmt.Errorf("alipay %s bill %s: bad download URL: %w", billType, date, err)
	}
	resp, err := c.web.Do(req)
	if err != nil {
		return gateway.BillFile{}, fmt.Errorf("alipay %s bill %s: download: %w", billType, date, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return gateway.BillFile{}, fmt.Errorf("alipay %s bill %s: download: HTTP %d", billType, date, resp.StatusCode)
	}
	body := bufio.NewReaderSize(resp.Body, 64<<10)
	if head, _ := body.Peek(4); !isZip(head) {
		return gateway.BillFile{}, fmt.Errorf("alipay %s bill %s: the download is not a zip (it starts %q)", billType, date, head)
	}
	n, err := io.Copy(dst, io.LimitReader(body, maxBillZip+1))
	if err != nil {
		return gateway.BillFile{}, fmt.Errorf("alipay %s bill %s: download: %w", billType, date, err)
	}
	if n > maxBillZip {
		return gateway.BillFile{}, fmt.Errorf("alipay %s bill %s: %w: zip larger than %d bytes", billType, date, gateway.ErrBillTooLarge, maxBillZip)
	}
	return gateway.BillFile{Name: billZipName(resp.Header.Get("Content-Disposition"), billType, date), Size: n}, nil
}

// billZipName is the file name the download gives (Content-Disposition),
// else one made of the bill type and the date; Alipay names its zips
// <account>_<yyyymmdd>.csv.zip.
func billZipName(disposition, billType, date string) string {
	if _, params, err := mime.ParseMediaType(disposition); err == nil {
		if name := path.Base(params["filename"]); name != "." && name != "/" && name != "" {
			return name
		}
	}
	return "alipay_" + billType + "_" + strings.ReplaceAll(date, "-", "") + ".csv.zip"
}
