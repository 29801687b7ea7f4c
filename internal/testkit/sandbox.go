package testkit

import (
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
)

// FastRetries makes the sandbox retry notifications within milliseconds.
var FastRetries = map[gateway.Channel][]time.Duration{
	gateway.Alipay: {20 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond},
	gateway.WeChat: {20 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond},
}

// StartSandbox runs a sandbox on a loopback port with the test keys and
// fast notification retries, and closes it when the test ends. mutate may
// adjust the config before it starts.
func StartSandbox(t testing.TB, mutate ...func(*sandbox.Config)) *sandbox.Server {
	t.Helper()
	cfg := sandbox.Config{Keys: SandboxKeys(t), RetryDelays: FastRetries, Seed: 42}
	for _, m := range mutate {
		m(&cfg)
	}
	s, err := sandbox.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}
