package wechat

import (
	"crypto/hmac"
	"crypto/rand"
	"fmt"
	"strings"

	"github.com/go-pay/gopay"
	gpwechat "github.com/go-pay/gopay/wechat"

	"github.com/paydesk/paydesk/gateway"
)

// v2Sign is the v2 signature of fields: uppercase hex of MD5 (or
// HMAC-SHA256 keyed with the API key) over the non-empty fields except
// sign, sorted by name, joined as k=v&..., with &key=API_KEY appended. It
// is computed by the SDK's own function, so what paydesk checks is exactly
// what the SDK signs.
func v2Sign(fields map[string]string, apiKey, signType string) string {
	bm := make(gopay.BodyMap, len(fields))
	for k, v := range fields {
		if k != "sign" {
			bm.Set(k, v)
		}
	}
	return gpwechat.GetReleaseSign(apiKey, signType, bm)
}

// verifyV2Sign checks the sign field of a v2 document signed with
// signType. The comparison takes the same time whatever matches, so the
// answer leaks nothing about the expected signature.
func verifyV2Sign(fields map[string]string, apiKey, signType string) error {
	got := fields["sign"]
	if got == "" {
		return fmt.Errorf("%w: no sign", gateway.ErrBadSignature)
	}
	want := v2Sign(fields, apiKey, signType)
	if !hmac.Equal([]byte(strings.ToUpper(got)), []byte(want)) {
		return fmt.Errorf("%w: sign (%s) is not the API key's", gateway.ErrBadSignature, signType)
	}
	return nil
}

// notifySignType is the sign type a notification declares: its sign_type
// field, MD5 when absent (the v2 default). It signs with the type its
// order was placed with, which need not be this client's.
func notifySignType(fields map[string]string) (string, error) {
	switch st := fields["sign_type"]; st {
	case "":
		return SignMD5, nil
	case SignMD5, SignHMACSHA256:
		return st, nil
	default:
		return "", fmt.Errorf("%w: sign_type %q is neither %s nor %s", gateway.ErrBadSignature, st, SignMD5, SignHMACSHA256)
	}
}

// wechatNonce is a nonce_str: 32 random letters and digits.
func wechatNonce() string {
	const symbols = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = symbols[int(b[i])%len(symbols)]
	}
	return string(b)
}
