package recon_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/recon"
)

// BenchmarkMatch1M reconciles a day of 1,000,000 orders against its bill
// (about a million lines; one order in 333, 0.3%, perturbed in turn across
// every category). One op is a whole run: NewMatcher (building the index),
// every line, Finish. The data is generated before the timer starts, laid
// out in memory as a store scan and a bill parser would allocate it.
//
//	go test ./recon -run '^$' -bench Match1M -benchmem
//
// The lines go through Lines in chunks of 1,024, as ops feeds what the
// parser read; BenchmarkMatch1M/line-by-line calls Line for each instead.
func BenchmarkMatch1M(b *testing.B) {
	s := generate(1_000_000, 333, 42)
	in := s.input()
	for _, bc := range []struct {
		name string
		feed func(m *recon.Matcher, lines []gateway.BillLine) error
	}{
		{"chunks", func(m *recon.Matcher, lines []gateway.BillLine) error {
			for i := 0; i < len(lines); i += 1024 {
				if err := m.Lines(lines[i:min(i+1024, len(lines))], nil); err != nil {
					return err
				}
			}
			return nil
		}},
		{"line-by-line", func(m *recon.Matcher, lines []gateway.BillLine) error {
			for i := range lines {
				if _, err := m.Line(&lines[i]); err != nil {
					return err
				}
			}
			return nil
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var build, feed, finish time.Duration
			for b.Loop() {
				c0 := cpuTime()
				m, err := recon.NewMatcher(in)
				if err != nil {
					b.Fatal(err)
				}
				c1 := cpuTime()
				if err := bc.feed(m, s.lines); err != nil {
					b.Fatal(err)
				}
				c2 := cpuTime()
				if res := m.Finish(); res.Counts[recon.Matched].Count == 0 {
					b.Fatal("nothing matched")
				}
				c3 := cpuTime()
				build, feed, finish = build+c1-c0, feed+c2-c1, finish+c3-c2
			}
			// CPU of the whole process (GC workers included) per run and per
			// phase: on a shared machine the wall time counts other programs.
			per := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
			b.ReportMetric(per(build+feed+finish), "cpu-ms/op")
			b.ReportMetric(per(build), "build-cpu-ms")
			b.ReportMetric(per(feed), "lines-cpu-ms")
			b.ReportMetric(per(finish), "finish-cpu-ms")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(s.lines)), "ns/line")
			b.ReportMetric(float64(len(s.lines)), "lines")
		})
	}
}

// cpuTime is the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
