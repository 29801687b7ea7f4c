package gateway

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// ErrFieldTooLong is wrapped by every FieldError.
var ErrFieldTooLong = errors.New("field longer than the platform accepts")

// FieldError is a request field longer than the platform documents for it.
// It is found before anything is recorded or sent, so a refund that could
// never be accepted leaves no PENDING row behind.
type FieldError struct {
	Channel Channel
	Field   string // as the platform names it: "reason", "out_refund_no"
	What    string // as a person reads it: "refund reason"
	Len     int    // bytes of UTF-8
	Max     int
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("the %s (%s %s) is %d bytes; %s accepts at most %d", e.What, e.Channel, e.Field, e.Len, e.Channel, e.Max)
}

func (e *FieldError) Unwrap() error { return ErrFieldTooLong }

// FieldLimit is the longest value one request field may hold, counted in
// bytes of UTF-8 (WeChat Pay states its string(N) limits in bytes; for
// Alipay's String(N) the byte count is the stricter reading, and what
// passes it passes either reading).
type FieldLimit struct {
	Field string // the platform's name
	What  string // a person's name for it
	Max   int
}

// Check returns a *FieldError when value is longer than the limit.
func (l FieldLimit) Check(ch Channel, value string) error {
	if len(value) > l.Max {
		return &FieldError{Channel: ch, Field: l.Field, What: l.What, Len: len(value), Max: l.Max}
	}
	if !utf8.ValidString(value) {
		return fmt.Errorf("the %s (%s %s) is not valid UTF-8", l.What, ch, l.Field)
	}
	return nil
}

// FieldValue is one value a request sends, with its field's limit.
type FieldValue struct {
	Limit FieldLimit
	Value string
}

// CheckFields checks each value against its limit, in order; empty values
// are not checked (a field the request does not send).
func CheckFields(ch Channel, fields ...FieldValue) error {
	for _, f := range fields {
		if f.Value == "" {
			continue
		}
		if err := f.Limit.Check(ch, f.Value); err != nil {
			return err
		}
	}
	return nil
}

// RefundChecker is implemented by platforms that can tell, without asking
// them, that a refund request would be refused for its fields' lengths.
// The caller checks before it records anything; empty fields are not
// checked (the request number is made later, within every platform's
// limit).
type RefundChecker interface {
	CheckRefund(req RefundRequest) error
}
