package exports

import (
	"regexp"
	"strings"
)

// Buyer identifiers as they can turn up in free text (a platform's error
// message, an apply detail, a note): Alipay's buyer_id is 2088 and twelve
// digits; a WeChat openid is 28 characters starting with "o". Neither is
// ever written unmasked (DESIGN §3 rule 6).
var (
	alipayBuyerID = regexp.MustCompile(`\b2088\d{12}\b`)
	wechatOpenID  = regexp.MustCompile(`\bo[0-9A-Za-z_-]{27}\b`)
)

// MaskBuyerIDs replaces every buyer identifier in s by its masked form,
// keeping the first four and last four characters so that a person can
// still tell two buyers apart.
func MaskBuyerIDs(s string) string {
	if !strings.Contains(s, "2088") && !strings.Contains(s, "o") {
		return s
	}
	s = alipayBuyerID.ReplaceAllStringFunc(s, maskMiddle)
	return wechatOpenID.ReplaceAllStringFunc(s, maskMiddle)
}

func maskMiddle(id string) string {
	if len(id) <= 8 {
		return strings.Repeat("*", len(id))
	}
	return id[:4] + strings.Repeat("*", len(id)-8) + id[len(id)-4:]
}
