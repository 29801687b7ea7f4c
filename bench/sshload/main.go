// Command sshload measures the SSH console under a team's load (see
// bench/ssh-load.sh): C people logged in at once over loopback, each
// scrolling the Orders view of a store of N orders by holding j, with the
// real `paydesk ssh` in another process. It reports each session's key →
// frame latency (from writing the key to reading the frame that shows the
// selection moved) and the server's resident memory per session; one
// session alone, measured in the same run, is the peer.
//
//	sshload prepare -dir D -n N -users C   # the store (once per N), keys, paydesk.toml
//	sshload fire -dir D -addr A -sessions C -keys K -pid PID
package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"log"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/paydesk/paydesk/internal/benchdata"
	"github.com/paydesk/paydesk/store"
)

func main() {
	if len(os.Args) < 2 {
		log.Fatal("usage: sshload prepare|fire [flags]")
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	dir := fs.String("dir", "bench/out/ssh", "work folder")
	n := fs.Int("n", 1_000_000, "orders in the store (prepare)")
	users := fs.Int("users", 20, "people in [[ssh.users]] (prepare)")
	listen := fs.String("listen", "127.0.0.1:12222", "the console's address (prepare)")
	addr := fs.String("addr", "127.0.0.1:12222", "the console's address (fire)")
	sessions := fs.Int("sessions", 20, "people logged in at once (fire)")
	keys := fs.Int("keys", 600, "j presses per session (fire)")
	gap := fs.Duration("gap", 30*time.Millisecond, "at least this long between a session's presses: holding j repeats about 33 times a second (fire)")
	pid := fs.Int("pid", 0, "the server's process, for its memory (fire)")
	_ = fs.Parse(os.Args[2:])
	var err error
	switch os.Args[1] {
	case "prepare":
		err = prepare(*dir, *n, *users, *listen)
	case "fire":
		err = fire(*dir, *addr, *n, *sessions, *keys, *gap, *pid)
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		log.Fatal(err)
	}
}

// prepare makes the store of n orders (kept for later runs), a key per
// person, and a paydesk.toml naming them all as viewers.
func prepare(dir string, n, users int, listen string) error {
	if err := os.MkdirAll(filepath.Join(dir, "people"), 0o700); err != nil {
		return err
	}
	db := filepath.Join(dir, fmt.Sprintf("orders-%d.db", n))
	if _, err := os.Stat(db); err != nil {
		if err := makeStore(db, n); err != nil {
			return err
		}
	}
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "[store]\npath = %q\n\n[operator]\nname = \"host\"\nrole = \"admin\"\n\n[ssh]\nlisten = %q\nhost_key_file = \"ssh_host_ed25519\"\nidle_timeout = \"30m\"\n", filepath.Base(db), listen)
	for i := range users {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return err
		}
		block, err := gossh.MarshalPrivateKey(priv, "")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "people", fmt.Sprint(i)), pem.EncodeToMemory(block), 0o600); err != nil {
			return err
		}
		signer, err := gossh.NewSignerFromKey(priv)
		if err != nil {
			return err
		}
		line := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(signer.PublicKey())))
		fmt.Fprintf(&cfg, "\n[[ssh.users]]\nname = \"person%02d\"\nrole = \"viewer\"\npublic_keys = [%q]\n", i, line)
	}
	return os.WriteFile(filepath.Join(dir, "paydesk.toml"), []byte(cfg.String()), 0o600)
}

// makeStore writes n orders of the synthetic month the console's own
// benchmarks use (internal/benchdata).
func makeStore(path string, n int) error {
	start := time.Now()
	st, err := store.Open(path)
	if err != nil {
		return err
	}
	defer st.Close()
	r := mrand.New(mrand.NewPCG(16, 1))
	_, err = st.ImportOrders(context.Background(), benchdata.MonthStart, func(im *store.OrderImporter) error {
		for i := range n {
			if err := im.Insert(context.Background(), benchdata.Order(r, i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		log.Printf("made a store of %d orders in %s", n, time.Since(start).Round(time.Second))
	}
	return err
}

// session is one person's terminal: it keeps what the server wrote since
// the last key, and answers the terminal queries (background colour,
// device attributes) as a terminal does.
type session struct {
	client *gossh.Client
	in     io.Writer
	mu     sync.Mutex
	since  bytes.Buffer
	seen   chan struct{} // something was written
}

func login(dir, addr string, i int) (*session, error) {
	b, err := os.ReadFile(filepath.Join(dir, "people", fmt.Sprint(i)))
	if err != nil {
		return nil, err
	}
	signer, err := gossh.ParsePrivateKey(b)
	if err != nil {
		return nil, err
	}
	c, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{User: "bench", Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 30 * time.Second})
	if err != nil {
		return nil, err
	}
	s, err := c.NewSession()
	if err != nil {
		return nil, err
	}
	if err := s.RequestPty("xterm-256color", 34, 120, gossh.TerminalModes{}); err != nil {
		return nil, err
	}
	in, err := s.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := s.StdoutPipe()
	if err != nil {
		return nil, err
	}
	se := &session{client: c, in: in, seen: make(chan struct{}, 1)}
	go se.read(out)
	if err := s.Shell(); err != nil {
		return nil, err
	}
	return se, nil
}

func (se *session) read(out io.Reader) {
	buf := make([]byte, 64<<10)
	answered := false
	for {
		n, err := out.Read(buf)
		if n > 0 {
			se.mu.Lock()
			se.since.Write(buf[:n])
			if !answered && bytes.Contains(se.since.Bytes(), []byte("\x1b[c")) {
				answered = true
				_, _ = io.WriteString(se.in, "\x1b]11;rgb:1e1e/1e1e/1e1e\x1b\\\x1b[?62;22c")
			}
			se.mu.Unlock()
			select {
			case se.seen <- struct{}{}:
			default:
			}
		}
		if err != nil {
			return
		}
	}
}

// await waits until what was written since the last reset contains want.
func (se *session) await(want []byte, timeout time.Duration) error {
	deadline := time.After(timeout)
	for {
		se.mu.Lock()
		ok := bytes.Contains(se.since.Bytes(), want)
		se.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-se.seen:
		case <-deadline:
			se.mu.Lock()
			tail := se.since.String()
			se.mu.Unlock()
			return fmt.Errorf("no %q after %s; last output %q", want, timeout, tail[max(0, len(tail)-300):])
		}
	}
}

// press writes a key and times until the frame showing position pos.
func (se *session) press(k string, pos int) (time.Duration, error) {
	want := positionText(pos)
	se.mu.Lock()
	se.since.Reset()
	se.mu.Unlock()
	start := time.Now()
	if _, err := io.WriteString(se.in, k); err != nil {
		return 0, err
	}
	if err := se.await(want, 30*time.Second); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// positionText is the filter line's "· 12 of 100,000+ orders" for a
// selection at pos (the count is capped, so only the position is sure).
func positionText(pos int) []byte { return []byte("· " + group(pos) + " of ") }

func group(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// scroll logs a person in, waits for the first frame with the count, and
// presses j keys times, gap apart at least.
func scroll(dir, addr string, i, keys int, gap time.Duration, ready *sync.WaitGroup, gate <-chan struct{}) (*session, []time.Duration, error) {
	se, err := login(dir, addr, i)
	if err == nil {
		err = se.await(positionText(1), 60*time.Second)
	}
	ready.Done()
	if err != nil {
		return nil, nil, fmt.Errorf("person %d: %w", i, err)
	}
	<-gate
	lat := make([]time.Duration, 0, keys)
	for k := range keys {
		start := time.Now()
		d, err := se.press("j", k+2)
		if err != nil {
			return se, lat, fmt.Errorf("person %d, key %d: %w", i, k+1, err)
		}
		lat = append(lat, d)
		time.Sleep(gap - time.Since(start))
	}
	return se, lat, nil
}

// run logs c people in, lets them scroll together, and returns each one's
// latencies and the server's memory while all are still logged in.
// idleWindow is how long sessions sit untouched after scrolling, to
// measure what an idle console costs.
const idleWindow = 5 * time.Second

// idleCPU is the server's CPU over the last run's idle window.
var idleCPU time.Duration

func run(dir, addr string, first, c, keys int, gap time.Duration, pid int) ([][]time.Duration, int64, time.Duration, error) {
	var ready, done sync.WaitGroup
	gate := make(chan struct{})
	lats := make([][]time.Duration, c)
	sessions := make([]*session, c)
	errs := make([]error, c)
	ready.Add(c)
	done.Add(c)
	for i := range c {
		go func() {
			defer done.Done()
			sessions[i], lats[i], errs[i] = scroll(dir, addr, first+i, keys, gap, &ready, gate)
		}()
	}
	ready.Wait()
	cpu0 := cpuTime(pid)
	close(gate)
	done.Wait()
	cpu := cpuTime(pid) - cpu0
	rss := rssKiB(pid)
	// Logged in, nobody typing: what an open console costs by itself
	// (the clock, the live refresh's poll, the frame timer).
	idle0 := cpuTime(pid)
	time.Sleep(idleWindow)
	idleCPU = cpuTime(pid) - idle0
	for _, se := range sessions {
		if se != nil {
			se.client.Close()
		}
	}
	for _, err := range errs {
		if err != nil {
			return nil, 0, 0, err
		}
	}
	return lats, rss, cpu, nil
}

func fire(dir, addr string, n, c, keys int, gap time.Duration, pid int) error {
	base := rssKiB(pid)
	fmt.Printf("server idle: %.1f MB resident\n", float64(base)/1024)

	fmt.Printf("load average at the start: %s\n", loadAvg())
	one, rss1, cpu1, err := run(dir, addr, 0, 1, keys, gap, pid)
	if err != nil {
		return err
	}
	// Let the server drop the session before the next phase.
	time.Sleep(2 * time.Second)
	base2 := rssKiB(pid)
	many, rssC, cpuC, err := run(dir, addr, 0, c, keys, gap, pid)
	idleC := idleCPU
	if err != nil {
		return err
	}

	p99 := func(l []time.Duration) time.Duration { return pct(l, 0.99) }
	fmt.Printf("\n%d orders, %d j presses per session, at least %s apart, 120×34 terminals\n", n, keys, gap)
	fmt.Printf("%-22s %8s %8s %8s\n", "", "p50", "p99", "max")
	row := func(name string, l []time.Duration) {
		fmt.Printf("%-22s %8s %8s %8s\n", name, ms(pct(l, 0.5)), ms(p99(l)), ms(slices.Max(l)))
	}
	row("1 session", one[0])

	var all, perP99 []time.Duration
	for _, l := range many {
		all = append(all, l...)
		perP99 = append(perP99, p99(l))
	}
	row(fmt.Sprintf("%d sessions, all keys", c), all)
	slices.Sort(perP99)
	fmt.Printf("%d sessions: per-session p99 from %s to %s (median %s)\n", c, ms(perP99[0]), ms(perP99[len(perP99)-1]), ms(perP99[len(perP99)/2]))
	fmt.Printf("p99 ratio, %d sessions / 1 session: %.2f\n", c, float64(p99(all))/float64(p99(one[0])))
	if pid > 0 {
		fmt.Printf("server CPU per press (scrolling phase, clock ticks of /proc/PID/stat): 1 session %s, %d sessions %s\n",
			ms(cpu1/time.Duration(keys)), c, ms(cpuC/time.Duration(c*keys)))
		fmt.Printf("server CPU of %d idle sessions: %.1f%% of a core (%.2f%% each)\n", c,
			100*idleC.Seconds()/idleWindow.Seconds(), 100*idleC.Seconds()/idleWindow.Seconds()/float64(c))
		fmt.Printf("load average at the end: %s\n", loadAvg())
		fmt.Printf("\nserver resident memory: idle %.1f MB; with 1 session %.1f MB (+%.1f); before the %d %.1f MB; with %d sessions %.1f MB: %.2f MB per session\n",
			mb(base), mb(rss1), mb(rss1-base), c, mb(base2), c, mb(rssC), mb(rssC-base)/float64(c))
	}
	return nil
}

func pct(l []time.Duration, p float64) time.Duration {
	s := slices.Clone(l)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }

func mb(kib int64) float64 { return float64(kib) / 1024 }

// cpuTime is the CPU a process has used (user + system), 0 when unknown.
func cpuTime(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command's closing parenthesis; utime and stime are
	// the 14th and 15th of the line, in clock ticks (100 a second).
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	sys, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+sys) * 10 * time.Millisecond
}

// loadAvg is the machine's load over the last 1, 5 and 15 minutes.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// rssKiB is a process's resident set (VmRSS), 0 when unknown.
func rssKiB(pid int) int64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			v, _ := strconv.ParseInt(f[1], 10, 64)
			return v
		}
	}
	return 0
}
