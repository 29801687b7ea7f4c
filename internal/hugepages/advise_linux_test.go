package hugepages

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// thpMode is the kernel's transparent huge page mode: always, madvise or
// never (the bracketed word of the sysfs file).
func thpMode(t *testing.T) string {
	b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil {
		t.Skipf("no transparent huge pages here: %v", err)
	}
	_, after, ok := bytes.Cut(b, []byte("["))
	mode, _, ok2 := bytes.Cut(after, []byte("]"))
	if !ok || !ok2 {
		t.Fatalf("cannot read the mode from %q", b)
	}
	return string(mode)
}

// thpFallbacks is how many times the kernel has fallen back to small pages
// where a huge page was wanted (/proc/vmstat).
func thpFallbacks(t *testing.T) int {
	b, err := os.ReadFile("/proc/vmstat")
	if err != nil {
		t.Skipf("no vmstat: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "thp_fault_fallback "); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	return 0
}

// anonHugeKB is the AnonHugePages of the mapping that holds addr, from
// /proc/self/smaps.
func anonHugeKB(t *testing.T, addr uintptr) int {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skipf("no smaps: %v", err)
	}
	defer f.Close()
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if lo, hi, ok := mappingRange(line); ok {
			in = lo <= addr && addr < hi
			continue
		}
		if in && strings.HasPrefix(line, "AnonHugePages:") {
			kb, err := strconv.Atoi(strings.Fields(line)[1])
			if err != nil {
				t.Fatal(err)
			}
			return kb
		}
	}
	t.Fatalf("no mapping holds %#x", addr)
	return 0
}

// mappingRange reads a smaps header line ("7f..-7f.. rw-p ...").
func mappingRange(line string) (lo, hi uintptr, ok bool) {
	r, _, found := strings.Cut(line, " ")
	a, b, dash := strings.Cut(r, "-")
	if !found || !dash {
		return 0, 0, false
	}
	x, err1 := strconv.ParseUint(a, 16, 64)
	y, err2 := strconv.ParseUint(b, 16, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return uintptr(x), uintptr(y), true
}

func TestAdvisedTableIsBackedByHugePages(t *testing.T) {
	mode := thpMode(t)
	if mode == "never" {
		t.Skip("transparent huge pages are off on this kernel")
	}
	// 16 MiB of fresh memory holds at least seven whole huge pages
	// wherever the runtime puts it.
	fallbacks := thpFallbacks(t)
	table := make([]uint64, 2<<20)
	Advise(table)
	for i := range table {
		table[i] = uint64(i) | 1
	}
	kb := anonHugeKB(t, uintptr(unsafe.Pointer(&table[len(table)/2])))
	if kb < 2048 && thpFallbacks(t) > fallbacks {
		t.Skip("the kernel had no free huge page to give (thp_fault_fallback rose): memory is short, not the advice wrong")
	}
	if kb < 2048 {
		t.Fatalf("mode %s: %d kB of the table's mapping is in huge pages; want at least one huge page", mode, kb)
	}
	for i, v := range table {
		if v != uint64(i)|1 {
			t.Fatalf("table[%d] = %d after the advice", i, v)
		}
	}
}

func TestAdviceOnSmallOrOddTables(t *testing.T) {
	// Nothing to advise, a table under one huge page, and one whose end
	// is not on a page boundary: none may fail or change a value.
	Advise([]int(nil))
	Advise(make([]byte, 100))
	type slot struct {
		a uint64
		b uint32
	}
	odd := make([]slot, (5<<20)/16+3)
	for i := range odd {
		odd[i] = slot{uint64(i), uint32(i)}
	}
	Advise(odd)
	for i, s := range odd {
		if s != (slot{uint64(i), uint32(i)}) {
			t.Fatalf("odd[%d] = %v after the advice", i, s)
		}
	}
}
