//go:build unix

package ops

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestHugeOrderFieldIsRefusedWhileStreaming: a 100 MB field is refused as
// soon as it passes its limit, not after it has been read into memory: the
// file is a pipe, and the import stops having taken well under 1 MB of the
// 100 MB the writer offers (what it took is counted on the writing side).
func TestHugeOrderFieldIsRefusedWhileStreaming(t *testing.T) {
	eachEngine(t, func(t *testing.T, db string) {
		for _, c := range []struct {
			name, head, want string
		}{
			{"huge.csv", "out_trade_no,channel,amount,created_at,subject\nPD0000000001,alipay,1.00,2026-11-22 10:00:00,", "huge.csv:2: subject: longer than"},
			{"huge.jsonl", `{"out_trade_no":"PD0000000001","channel":"alipay","amount":"1.00","created_at":"2026-11-22 10:00:00","subject":"`, "huge.jsonl:1: subject: line longer than"},
		} {
			t.Run(c.name, func(t *testing.T) {
				s := testService(t, Admin, db)
				p := filepath.Join(t.TempDir(), c.name)
				if err := syscall.Mkfifo(p, 0o600); err != nil {
					t.Skipf("no named pipes here: %v", err)
				}
				written := make(chan int64, 1)
				go func() {
					f, err := os.OpenFile(p, os.O_WRONLY, 0)
					if err != nil {
						written <- -1
						return
					}
					defer f.Close()
					n, _ := f.WriteString(c.head)
					total := int64(n)
					block := []byte(strings.Repeat("x", 64<<10))
					for total < 100<<20 {
						n, err := f.Write(block)
						total += int64(n)
						if err != nil { // the reader closed the pipe: EPIPE
							break
						}
					}
					written <- total
				}()
				_, err := s.ImportOrders(context.Background(), p)
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("error %v; want %q", err, c.want)
				}
				if n := <-written; n < 0 || n >= 1<<20 {
					t.Fatalf("the import took %d bytes of the field before refusing it; want under 1 MB", n)
				}
			})
		}
	})
}
