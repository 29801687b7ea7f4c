package alipay

import (
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// preambleLine takes the account and the date window from a #-line of the
// detail file's preamble.
func (b *billReader) preambleLine(line string) error {
	acct, window, err := preambleFacts(line, b.zone)
	if err != nil {
		return b.fail(b.line, ErrBillLayout, "%v", err)
	}
	if acct != "" {
		b.account, b.accountLine = acct, b.line
	}
	if !window[0].IsZero() {
		b.window, b.windowLine = window, b.line
	}
	return nil
}

// checkPreamble holds the bill, once its header is read, to the merchant
// and the day it must be of, and the summary to the detail file.
func (b *billReader) checkPreamble() error {
	at := b.accountLine
	if at == 0 {
		at = b.line // the header: no #账号 above it
	}
	if m := b.Opt.Merchant; m != "" {
		switch {
		case b.account == "":
			return b.fail(at, gateway.ErrBillMerchant, "the bill states no #账号 to check against PID %s ([alipay] pid)", m)
		case !ofPID(b.account, m):
			return b.fail(at, gateway.ErrBillMerchant, "#账号 %s is not an account of PID %s ([alipay] pid): a bill of another merchant", b.account, m)
		}
	}
	if a := b.Opt.Account; a != "" && b.account != a {
		if b.account == "" {
			return b.fail(at, gateway.ErrBillMerchant, "the bill states no #账号; this workspace's bills are of %s (recorded from its first bill)", a)
		}
		return b.fail(at, gateway.ErrBillMerchant, "#账号 %s, but this workspace's bills are of %s (recorded from its first bill; set [alipay] pid to say otherwise)", b.account, a)
	}
	if !b.DayStart.IsZero() && b.windowLine > 0 && (!b.window[0].Equal(b.DayStart) || !b.window[1].Equal(b.DayEnd)) {
		return b.fail(b.windowLine, gateway.ErrBillDay, "the bill covers %s to %s, not the business day %s",
			b.window[0].Format(time.DateTime), b.window[1].Format(time.DateTime), b.DayStart.Format(time.DateOnly))
	}
	if s := b.summary; s != nil {
		if s.account != "" && b.account != "" && s.account != b.account {
			return b.fail(at, ErrBillLayout, "the summary file %s is of account %s (its line %d), the detail file of %s", s.file, s.account, s.accountLine, b.account)
		}
		if s.windowLine > 0 && b.windowLine > 0 && (!s.window[0].Equal(b.window[0]) || !s.window[1].Equal(b.window[1])) {
			return b.fail(b.windowLine, ErrBillLayout, "the summary file %s covers %s to %s (its line %d), the detail file another window",
				s.file, s.window[0].Format(time.DateTime), s.window[1].Format(time.DateTime), s.windowLine)
		}
	}
	if b.feeSign == 0 && b.cNet2 < 0 {
		// Nothing in the file tells: read charged fees as negative, as
		// every Alipay file that does tell prints them.
		b.feeSign = -1
	}
	return nil
}

// ofPID reports whether account is the PID followed by Alipay's four-digit
// account suffix (2088…0156).
func ofPID(account, pid string) bool {
	if len(account) != len(pid)+4 || account[:len(pid)] != pid {
		return false
	}
	for i := len(pid); i < len(account); i++ {
		if account[i] < '0' || account[i] > '9' {
			return false
		}
	}
	return true
}

// Account returns the #账号 the bill states, empty when it states none.
func (b *billReader) Account() string { return b.account }
