package exports

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/alipay"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/recon"
	"github.com/paydesk/paydesk/store"
)

// BenchmarkReconReport1M exports a run over a 1,000,000-line Alipay bill
// (a zip written by the sandbox writer, 1% of lines with a finding) and
// reports the time per export and the process's peak RSS during it (VmHWM,
// reset before the export): the issue asks for ≤ 15 s and ≤ 400 MB.
//
//	go test ./exports -run '^$' -bench ReconReport1M -benchtime 1x
func BenchmarkReconReport1M(b *testing.B) {
	const lines = 1_000_000
	dir := b.TempDir()
	billPath := filepath.Join(dir, "bill.zip")
	in := benchRun(b, billPath, lines)
	out := filepath.Join(dir, "recon.xlsx")
	runtime.GC()
	resetPeakRSS(b)
	b.ResetTimer()
	for range b.N {
		res, err := func() (Result, error) {
			f, err := os.Create(out)
			if err != nil {
				return Result{}, err
			}
			defer f.Close()
			return ReconReport(f, in)
		}()
		if err != nil {
			b.Fatal(err)
		}
		if res.Rows != lines+len(in.Findings) {
			b.Fatalf("%d rows", res.Rows)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(peakRSS(b))/(1<<20), "peak-RSS-MB")
	if fi, err := os.Stat(out); err == nil {
		b.ReportMetric(float64(fi.Size())/(1<<20), "xlsx-MB")
	}
}

// benchRun writes the bill and builds the run and findings ops would load.
func benchRun(b *testing.B, billPath string, lines int) Recon {
	day := time.Date(2026, 11, 22, 0, 0, 0, 0, zone)
	f, err := os.Create(billPath)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	bw := sandbox.NewAlipayBillZip(w, "20880000000000000156", day)
	subjects := []string{"咖啡 大杯", "Monthly plan", "会员月卡", "T-shirt (L)"}
	var findings []store.Finding
	for i := range lines {
		amount := gateway.Money(100 + i%50000)
		r := sandbox.AlipayBillRow{TradeNo: fmt.Sprintf("2026112222001%015d", i), OutTradeNo: fmt.Sprintf("PD%010d", i),
			Subject: subjects[i%len(subjects)], CreatedAt: day.Add(time.Duration(i) * 80 * time.Millisecond),
			FinishedAt: day.Add(time.Duration(i)*80*time.Millisecond + time.Second), Amount: amount, Fee: sandbox.AlipayFee(amount)}
		if err := bw.Add(r); err != nil {
			b.Fatal(err)
		}
		if i%100 == 0 {
			// The line numbers the parser will give these rows: five
			// header lines precede the first row.
			findings = append(findings, store.Finding{Channel: gateway.Alipay, Day: "2026-11-22", FirstDay: "2026-11-22",
				Category: string(recon.UnpaidLocal), Severity: string(recon.Warning), Kind: string(gateway.LinePayment),
				OutTradeNo: r.OutTradeNo, TradeNo: r.TradeNo, PlatformAmount: amount, LocalAmount: amount, LocalStatus: "PENDING",
				PlatformStatus: "交易", BillLine: i + 6, Detail: "paid on the platform, PENDING here: query the trade"})
		}
	}
	if err := bw.Close(); err != nil {
		b.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	// Check the line numbering assumption once, on the first rows.
	br, done := openAlipay(b, billPath)
	first, err := br.Next()
	if err != nil || first.Line != 6 {
		b.Fatalf("first line %+v %v: the findings' line numbers are off", first, err)
	}
	done(false)
	run := store.Run{ID: 1, Channel: gateway.Alipay, Day: "2026-11-22", Operator: "bench", StartedAt: day.Add(33 * time.Hour),
		FinishedAt: day.Add(33*time.Hour + 9*time.Second), Orders: lines, Lines: lines,
		Counts: map[string]store.CategoryTotal{string(recon.UnpaidLocal): {Count: len(findings)}},
		Bill:   &store.Bill{Channel: gateway.Alipay, Day: "2026-11-22", Source: "file", FileName: filepath.Base(billPath), Path: billPath, Lines: lines},
	}
	return Recon{Run: run, Findings: findings, Zone: zone, ExportedAt: day.Add(34 * time.Hour), ExportedBy: "bench",
		OpenBill: func() (gateway.BillReader, func(bool) error, error) {
			br, done := openAlipay(b, billPath)
			return br, done, nil
		}}
}

func openAlipay(b *testing.B, path string) (gateway.BillReader, func(bool) error) {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	br, err := alipay.OpenBill(filepath.Base(path), f)
	if err != nil {
		b.Fatal(err)
	}
	return br, func(bool) error { return f.Close() }
}

// resetPeakRSS resets the kernel's high-water mark of this process's RSS
// (Linux: writing 5 to clear_refs), so VmHWM then measures the export.
func resetPeakRSS(b *testing.B) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Logf("cannot reset the peak RSS (%v): it includes making the bill", err)
	}
}

// peakRSS is VmHWM from /proc/self/status, in bytes.
func peakRSS(b *testing.B) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Skipf("no /proc/self/status: %v", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatal(errors.Join(errors.New("no VmHWM"), s.Err()))
	return 0
}
