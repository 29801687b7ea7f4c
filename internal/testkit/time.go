package testkit

import (
	"testing"
	"time"
)

// Time parses an RFC 3339 time or fails the test.
func Time(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
