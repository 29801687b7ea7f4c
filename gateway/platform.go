package gateway

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"
	_ "time/tzdata" // the business day is Asia/Shanghai even on hosts without zoneinfo
)

// Platform is one configured merchant account at one payment platform.
// Implementations verify every response they return; a response whose
// signature does not verify is an error, never a result.
type Platform interface {
	Channel() Channel

	// QueryTrade asks the platform for the live state of a trade. A trade
	// the platform does not know is ErrTradeNotFound.
	QueryTrade(ctx context.Context, outTradeNo string) (Trade, error)

	// Refund sends a refund request. An error wrapping ErrUnknownOutcome
	// means the platform may or may not have refunded (timeout, 5xx, an
	// unverifiable answer): the caller keeps the refund PENDING and later
	// queries it or re-sends the same OutRequestNo. Any other error is a
	// definite refusal.
	Refund(ctx context.Context, req RefundRequest) (RefundResult, error)

	// QueryRefund asks for the state of one refund request. An unknown
	// request is ErrRefundNotFound.
	QueryRefund(ctx context.Context, outTradeNo, outRequestNo string) (RefundResult, error)

	// DownloadBill fetches the trade bill of the business date that day falls
	// on and streams it to dst as it arrives (Alipay: the zip as served;
	// WeChat: the text bill, inflated), checking the platform's hash where
	// it gives one. dst is a spool: the bill is written once, and on an
	// error (a hash that does not hold) the caller discards what was
	// written. Nothing is held in memory.
	DownloadBill(ctx context.Context, day time.Time, dst io.Writer) (BillFile, error)

	// VerifyNotification checks a callback's signature and merchant identity
	// and returns it normalized, or an error wrapping one of ErrBadSignature,
	// ErrWrongMerchant, ErrStale or ErrMalformed. receivedAt is when the
	// callback arrived, so a replay judges freshness as of then.
	VerifyNotification(header http.Header, body []byte, receivedAt time.Time) (Notification, error)

	// NotifyReply is the protocol answer to a callback: err == nil
	// acknowledges it; any error asks the platform to send it again.
	NotifyReply(err error) Reply
}

// Errors a Platform returns; callers test them with errors.Is.
var (
	ErrBadSignature   = errors.New("signature does not verify")
	ErrWrongMerchant  = errors.New("not addressed to this merchant")
	ErrStale          = errors.New("timestamp outside the freshness window")
	ErrMalformed      = errors.New("malformed notification")
	ErrTradeNotFound  = errors.New("trade not found at the platform")
	ErrRefundNotFound = errors.New("refund not found at the platform")
	ErrUnknownOutcome = errors.New("outcome unknown")
	ErrBillNotReady   = errors.New("bill not available")
)

// IsRejection reports whether a verification error means the notification
// itself is bad (as opposed to a failure on our side).
func IsRejection(err error) bool {
	return errors.Is(err, ErrBadSignature) || errors.Is(err, ErrWrongMerchant) ||
		errors.Is(err, ErrStale) || errors.Is(err, ErrMalformed)
}

// Shanghai is the platforms' zone, where a business day starts and ends.
var Shanghai = mustZone("Asia/Shanghai")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err) // cannot happen: time/tzdata is linked in
	}
	return loc
}
