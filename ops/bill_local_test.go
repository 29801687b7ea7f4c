package ops_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/internal/dbtest"
	"github.com/paydesk/paydesk/internal/testenv"
	"github.com/paydesk/paydesk/ops"
)

// TestBillFileIsParsedWhileKept: a bill given as a file is parsed while
// its copy is kept. The run keeps exactly the file's bytes; a file touched
// while it is read (its modification time moved) is refused with a message
// naming it, and leaves no run and no copy behind; the download stage is
// reported once, done, before any line is matched.
func TestBillFileIsParsedWhileKept(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, db string) { billFileParsedWhileKept(t, db) })
}

func billFileParsedWhileKept(t *testing.T, db string) {
	env := testenv.New(t, testenv.Options{DB: db, Serve: true})
	buildFixtureWorld(t, env)
	ctx := context.Background()
	path, src := copyOfTestdata(t, "recon", "alipay_20261122.zip")

	// Nowhere to keep it (a PostgreSQL store without [store] bills_dir):
	// refused before a line is parsed.
	if env.Store.Dir() == "" {
		nowhere, err := ops.New(ops.Options{Store: env.Store, Operator: ops.Operator{Name: "fin", Role: ops.Admin}})
		if err != nil {
			t.Fatal(err)
		}
		var reported []string
		_, err = nowhere.RunRecon(ctx, ops.ReconRequest{Channel: gateway.Alipay, Day: fixtureDay, BillFile: path}, func(p ops.ReconProgress) {
			reported = append(reported, p.Stage)
		})
		if !errors.Is(err, ops.ErrNoBillsDir) || slices.Contains(reported, ops.StageMatch) {
			t.Fatalf("no bills folder: %v after stages %v", err, reported)
		}
	}

	// Touched while its lines are matched: refused, nothing kept.
	touched := false
	_, err := env.Service.RunRecon(ctx, ops.ReconRequest{Channel: gateway.Alipay, Day: fixtureDay, BillFile: path}, touchOnMatch(t, path, &touched))
	if !touched || err == nil || !strings.Contains(err.Error(), "alipay_20261122.zip changed while it was read") {
		t.Fatalf("a bill touched while read: touched %v, error %v", touched, err)
	}
	if runs, _ := env.Service.ReconRuns(ctx, 10); len(runs) != 0 {
		t.Fatalf("the refused run saved %d runs", len(runs))
	}
	if files := billFiles(t, env); len(files) != 0 {
		t.Fatalf("the refused run left %v in the workspace", files)
	}

	// Left alone: kept byte for byte, and the stages reported in order.
	var stages []string
	run, err := env.Service.RunRecon(ctx, ops.ReconRequest{Channel: gateway.Alipay, Day: fixtureDay, BillFile: path}, func(p ops.ReconProgress) {
		if p.Stage == ops.StageDownload || p.Stage == ops.StageMatch {
			if len(stages) == 0 || stages[len(stages)-1] != p.Stage {
				stages = append(stages, p.Stage)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(stages, ","); got != "download,match" {
		t.Errorf("stages %s; want the download done once before the match", got)
	}
	sum := sha256.Sum256(src)
	bill, found, err := env.Store.FindBill(ctx, gateway.Alipay, fixtureDay.Format("2006-01-02"), hex.EncodeToString(sum[:]))
	if err != nil || !found || bill.ID != run.BillID {
		t.Fatalf("the run's bill (%d) by the file's hash: %+v %v %v", run.BillID, bill, found, err)
	}
	kept, err := os.ReadFile(bill.Path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(kept, src) || bill.Size != int64(len(src)) || bill.Source != "file" || bill.FileName != "alipay_20261122.zip" {
		t.Fatalf("kept %d bytes (source %q, name %q); the file has %d", len(kept), bill.Source, bill.FileName, len(src))
	}
	if files := billFiles(t, env); len(files) != 1 {
		t.Fatalf("files in the workspace: %v", files)
	}
}

// touchOnMatch is a run's progress callback that moves path's
// modification time when the first lines are matched, as a program
// writing to the file meanwhile would, and sets *touched.
func touchOnMatch(t *testing.T, path string, touched *bool) func(ops.ReconProgress) {
	return func(p ops.ReconProgress) {
		if p.Stage == ops.StageMatch && !*touched {
			*touched = true
			later := time.Now().Add(time.Minute)
			if err := os.Chtimes(path, later, later); err != nil {
				t.Error(err)
			}
		}
	}
}

// copyOfTestdata copies a file of testdata/dir into a temporary folder
// (that a test may change it), returning the copy's path and the bytes.
func copyOfTestdata(t *testing.T, dir, name string) (string, []byte) {
	t.Helper()
	src, err := os.ReadFile(testdataPath(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, src, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, src
}
