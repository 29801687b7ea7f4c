// Command reconprof profiles one reconciliation run (a development aid for
// bench/recon-bench.sh and bench/funds-bench.sh):
//
//	reconprof -dir bench/out/recon-1000000 -cpuprofile cpu.out
//	reconprof -dir bench/out/funds-1000000 -funds -cpuprofile cpu.out  (on a copy of fund-template.db)
//	reconprof ... -heapprofile heap.out  (what is live when the bill's parse ends)
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/internal/config"
	"github.com/paydesk/paydesk/internal/workspace"
	"github.com/paydesk/paydesk/ops"
)

func main() {
	dir := flag.String("dir", "bench/out/recon-1000000", "data folder made by recongen")
	cpu := flag.String("cpuprofile", "", "write a CPU profile here")
	funds := flag.Bool("funds", false, "profile recon funds (funds.zip) instead of recon run (bill.zip)")
	heap := flag.String("heapprofile", "", "write a heap profile here when the bill's parse ends (the matcher still live)")
	flag.Parse()
	cfg, err := config.Load(filepath.Join(*dir, "paydesk.toml"))
	if err != nil {
		log.Fatal(err)
	}
	ws, err := workspace.Open(cfg, workspace.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer ws.Close()
	if *cpu != "" {
		f, _ := os.Create(*cpu)
		_ = pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	last := start
	reconcile, bill := ws.Service.RunRecon, "bill.zip"
	if *funds {
		reconcile, bill = ws.Service.RunFundRecon, "funds.zip"
	}
	run, err := reconcile(context.Background(), ops.ReconRequest{Channel: gateway.Alipay,
		Day: time.Date(2026, 11, 22, 0, 0, 0, 0, gateway.Shanghai), BillFile: filepath.Join(*dir, bill)},
		func(p ops.ReconProgress) {
			if p.Stage == ops.StageParse && p.Message != "" && *heap != "" {
				writeHeapProfile(*heap)
			}
			if p.Message != "" {
				log.Printf("%6.2fs (+%.2f) %-8s %s", time.Since(start).Seconds(), time.Since(last).Seconds(), p.Stage, p.Message)
				last = time.Now()
			}
		})
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("run %d: %d lines, %d orders in %s", run.ID, run.Lines, run.Orders, time.Since(start))
}

// writeHeapProfile writes what is live now, after a collection.
func writeHeapProfile(path string) {
	runtime.GC()
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		log.Fatal(err)
	}
}
