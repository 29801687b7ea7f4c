package testkit

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
)

// Notifier is what a notification endpoint needs of a platform client.
type Notifier interface {
	VerifyNotification(header http.Header, body []byte, receivedAt time.Time) (gateway.Notification, error)
	NotifyReply(err error) gateway.Reply
}

// Endpoint is a merchant's notification endpoint on one client, for tests
// of a gateway package without the store: it verifies what arrives and
// answers as paydesk serve does (in the body's protocol when the client
// takes several), keeping what it saw.
type Endpoint struct {
	mu       sync.Mutex
	verified []gateway.Notification
	rejected []error
	bodies   [][]byte
}

// ServeEndpoint starts an Endpoint on loopback for p and points the
// sandbox's notifications of ch at it until the test ends.
func ServeEndpoint(t testing.TB, s *sandbox.Server, ch gateway.Channel, p Notifier) *Endpoint {
	t.Helper()
	e := &Endpoint{}
	srv := httptest.NewServer(e.Handler(p))
	t.Cleanup(srv.Close)
	s.SetNotifyURL(ch, srv.URL)
	return e
}

// Handler verifies each request with p and answers with p's reply.
func (e *Endpoint) Handler(p Notifier) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		n, err := p.VerifyNotification(r.Header, body, time.Now())
		e.mu.Lock()
		e.bodies = append(e.bodies, body)
		if err != nil {
			e.rejected = append(e.rejected, err)
		} else {
			e.verified = append(e.verified, n)
		}
		e.mu.Unlock()
		reply := p.NotifyReply(err)
		if br, ok := p.(gateway.BodyReplier); ok {
			reply = br.NotifyReplyTo(body, err)
		}
		if reply.ContentType != "" {
			w.Header().Set("Content-Type", reply.ContentType)
		}
		w.WriteHeader(reply.Status)
		_, _ = w.Write(reply.Body)
	})
}

// Take returns what arrived since the last Take: the verified
// notifications, the rejections, and every body.
func (e *Endpoint) Take() ([]gateway.Notification, []error, [][]byte) {
	e.mu.Lock()
	defer e.mu.Unlock()
	v, r, b := e.verified, e.rejected, e.bodies
	e.verified, e.rejected, e.bodies = nil, nil, nil
	return v, r, b
}

// Refused takes what arrived and fails the test unless something arrived,
// nothing verified, and every rejection wraps want. It returns the
// rejections.
func (e *Endpoint) Refused(t testing.TB, what string, want error) []error {
	t.Helper()
	v, r, _ := e.Take()
	if len(v) != 0 || len(r) == 0 {
		t.Fatalf("%s: verified %+v, rejected %v", what, v, r)
	}
	for _, err := range r {
		if !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", what, err, want)
		}
	}
	return r
}
