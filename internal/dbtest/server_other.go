//go:build !unix

package dbtest

import "errors"

// Server is a throwaway PostgreSQL server; on this system the tests do not
// start one (they reach an existing server through $PAYDESK_TEST_POSTGRES).
type Server struct{ url string }

// Durable: see server.go.
var Durable []string

// Start cannot start a server on this system.
func Start(...string) (*Server, error) {
	return nil, errors.New("starting a PostgreSQL server for tests needs a Unix system; set $PAYDESK_TEST_POSTGRES")
}

// URL is the URL of database name on the server.
func (s *Server) URL(name string) string { return withDatabase(s.url, name) }

// Stop does nothing: there is no server of ours to stop.
func (s *Server) Stop() {}
