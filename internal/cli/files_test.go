package cli

import (
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
)

// runChild runs paydesk as a child process under umask 0 and waits.
func runChild(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1", umaskEnv+"=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("paydesk %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// TestFilesArePrivateUnderAnyUmask: the files that hold raw callbacks,
// buyer ids and money records — the store with its -wal and -shm, the kept
// bills (and their folder), the exports — are created 0600 (folders 0700)
// by real paydesk processes running under umask 0, where anything that
// only asked the umask's leave would come out world-readable.
func TestFilesArePrivateUnderAnyUmask(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	cfg, sb := sandboxWorkspace(t, "")
	dir := filepath.Dir(cfg)
	db := filepath.Join(dir, "paydesk.db")

	// serve creates the store and holds it open: -wal and -shm exist.
	addr := freeAddr(t)
	child := exec.Command(os.Args[0], "--config", cfg, "serve", "--listen", addr)
	child.Env = append(os.Environ(), runMainEnv+"=1", umaskEnv+"=0")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = child.Process.Kill(); _, _ = child.Process.Wait() })
	waitHealthy(t, addr)
	// A write makes SQLite create the -wal and -shm files.
	resp, err := http.Post("http://"+addr+"/notify/alipay", "application/x-www-form-urlencoded", strings.NewReader("sign=forged"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	wantMode(t, db, 0o600)
	wantMode(t, db+"-wal", 0o600)
	wantMode(t, db+"-shm", 0o600)
	_ = child.Process.Signal(syscall.SIGTERM)
	_, _ = child.Process.Wait()

	// A reconciliation keeps the downloaded bill; exports write workbooks.
	yesterday := time.Now().In(sb.Zone()).AddDate(0, 0, -1)
	day := yesterday.Format(time.DateOnly)
	if _, err := sb.CreateTrade(sandbox.TradeSpec{Channel: gateway.WeChat, OutTradeNo: "PDMODES0000001", Amount: 100, CreatedAt: yesterday}); err != nil {
		t.Fatal(err)
	}
	if _, err := sb.Pay(gateway.WeChat, "PDMODES0000001", yesterday.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	runChild(t, "--config", cfg, "recon", "run", "--channel", string(gateway.WeChat), "--date", day)
	bills, _ := filepath.Glob(filepath.Join(dir, "bills", "wechat", "*"))
	if len(bills) != 1 {
		t.Fatalf("kept bills %v; want one", bills)
	}
	wantMode(t, filepath.Join(dir, "bills"), fs.ModeDir|0o700)
	wantMode(t, filepath.Join(dir, "bills", "wechat"), fs.ModeDir|0o700)
	wantMode(t, bills[0], 0o600)
	out := t.TempDir()
	for _, what := range []string{"orders", "notifications", "audit"} {
		p := filepath.Join(out, what+".xlsx")
		runChild(t, "--config", cfg, "export", what, "-o", p)
		wantMode(t, p, 0o600)
	}
	p := filepath.Join(out, "forced.xlsx")
	os.WriteFile(p, []byte("old"), 0o644)
	runChild(t, "--config", cfg, "export", "audit", "-o", p, "--force")
	wantMode(t, p, 0o600)
}

func wantMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	if got := fi.Mode() & (fs.ModeDir | fs.ModePerm); got != want {
		t.Errorf("%s: mode %v, want %v", strings.TrimPrefix(path, os.TempDir()), got, want)
	}
}

// TestEmptyStoreFileIsRefused: a 0-byte store (a truncated file, a failed
// restore, a path typed wrong) stops every command, naming the file; the
// file is left as it was and no -wal or -shm appears beside it.
func TestEmptyStoreFileIsRefused(t *testing.T) {
	t.Parallel()
	cfg := testWorkspace(t, "admin")
	db := filepath.Join(filepath.Dir(cfg), "paydesk.db")
	if err := os.WriteFile(db, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"orders", "list"}, {"notify", "list"}} {
		code, _, errOut := runCLI(t, append([]string{"--config", cfg}, args...)...)
		if code != 1 || !strings.Contains(errOut, db+": the database file is empty (0 bytes)") || !strings.Contains(errOut, "restore it from a backup, or remove it") {
			t.Errorf("%v: exit %d %q", args, code, errOut)
		}
	}
	wantMode(t, db, 0o640)
	if fi, _ := os.Stat(db); fi.Size() != 0 {
		t.Errorf("the refused file grew to %d bytes", fi.Size())
	}
	for _, p := range []string{db + "-wal", db + "-shm"} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s appeared beside the refused store", p)
		}
	}
}
