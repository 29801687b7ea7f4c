//go:build unix

package dbtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"time"
)

// Server is a throwaway PostgreSQL server: its data folder and unix socket
// live in one temp folder, removed by Stop. It listens on no TCP port, so it
// never meets another server on the machine (Debian's own cluster included).
type Server struct {
	dir    string
	proc   *exec.Cmd
	exited chan error
	url    string // of the postgres database, as the superuser
}

// Start initializes and starts a server. PostgreSQL refuses to run as root:
// when this process is root, the server runs as the postgres user (which
// Debian's package creates), owning its temp folder. For tests durability is
// off (no fsync); settings ("name=value") override that and the rest, as
// benchmarks of commit costs must.
func Start(settings ...string) (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	cred, err := serverUser()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "paydesk-pg-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir}
	fail := func(err error) (*Server, error) {
		s.Stop()
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return fail(err)
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "paydesk", "-A", "trust", "-E", "UTF8",
		"--locale=C", "--no-sync")
	initdb.SysProcAttr = sysProcAttr(cred)
	if out, err := initdb.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("initdb: %v\n%s", err, out))
	}
	logPath := filepath.Join(dir, "server.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return fail(err)
	}
	defer logf.Close()
	if cred != nil {
		_ = os.Chown(logPath, int(cred.Uid), int(cred.Gid))
	}
	// Durability is not what tests measure: no fsync, so a database is
	// made in milliseconds.
	args := []string{"-D", data, "-k", dir, "-c", "listen_addresses=",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=300", "-c", "shared_buffers=64MB"}
	for _, kv := range settings {
		args = append(args, "-c", kv) // the last of a name wins
	}
	s.proc = exec.Command(filepath.Join(bin, "postgres"), args...)
	s.proc.SysProcAttr = sysProcAttr(cred)
	s.proc.Stdout, s.proc.Stderr = logf, logf
	if err := s.proc.Start(); err != nil {
		return fail(fmt.Errorf("start postgres: %w", err))
	}
	s.url = (&url.URL{Scheme: "postgres", User: url.User("paydesk"), Path: "/postgres",
		RawQuery: url.Values{"host": {dir}, "sslmode": {"disable"}}.Encode()}).String()
	s.exited = make(chan error, 1)
	go func() { s.exited <- s.proc.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if err := ping(s.url); err == nil {
			return s, nil
		} else if time.Now().After(deadline) {
			log, _ := os.ReadFile(logPath)
			return fail(fmt.Errorf("postgres did not start: %v\n%s", err, log))
		}
		select {
		case err := <-s.exited:
			s.proc = nil
			log, _ := os.ReadFile(logPath)
			return fail(fmt.Errorf("postgres exited: %v\n%s", err, log))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Durable are the settings of a server that keeps every commit: what a
// production server does, and what a benchmark of commits must measure.
var Durable = []string{"fsync=on", "synchronous_commit=on", "full_page_writes=on", "shared_buffers=256MB"}

// URL is the URL of database name on the server.
func (s *Server) URL(name string) string { return withDatabase(s.url, name) }

// Stop shuts the server down (fast shutdown: open sessions are cut) and
// removes its folder.
func (s *Server) Stop() {
	if s.proc != nil {
		_ = s.proc.Process.Signal(syscall.SIGINT)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			_ = s.proc.Process.Kill()
			<-s.exited
		}
	}
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}

func ping(dsn string) error {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return db.PingContext(ctx)
}

// binDir finds the server binaries: $PAYDESK_PG_BIN, else Debian's
// /usr/lib/postgresql/<version>/bin (off PATH; the newest version), else
// PATH.
func binDir() (string, error) {
	if d := os.Getenv("PAYDESK_PG_BIN"); d != "" {
		return d, nil
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	sort.Slice(found, func(i, j int) bool { return version(found[i]) > version(found[j]) })
	for _, p := range found {
		if _, err := os.Stat(filepath.Join(filepath.Dir(p), "initdb")); err == nil {
			return filepath.Dir(p), nil
		}
	}
	if p, err := exec.LookPath("postgres"); err == nil {
		if _, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(p), nil
		}
	}
	return "", errors.New("no PostgreSQL server binaries (initdb, postgres) in $PAYDESK_PG_BIN, /usr/lib/postgresql/*/bin or on PATH; on Debian: apt-get install postgresql")
}

func version(postgresPath string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(postgresPath))))
	return v
}

// serverUser is who runs the server: this process's user, or (as root) the
// postgres user.
func serverUser() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL refuses to run as root, and there is no postgres user to run it as: %w", err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}
