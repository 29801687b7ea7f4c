package hugepages

import (
	"syscall"
	"unsafe"
)

const hugePage = 2 << 20

// Advise marks the whole huge pages inside s's memory MADV_HUGEPAGE, so
// that the kernel (with transparent_hugepage "madvise" or "always") backs
// them with huge pages when they are first touched. Call it before the
// table is written: memory already faulted in small pages stays so until
// khugepaged merges it.
func Advise[T any](s []T) {
	if len(s) == 0 {
		return
	}
	size := uintptr(len(s)) * unsafe.Sizeof(s[0])
	if size < hugePage {
		return
	}
	base := unsafe.Pointer(unsafe.SliceData(s))
	start := uintptr(base)
	first := (start + hugePage - 1) &^ (hugePage - 1)
	last := (start + size) &^ (hugePage - 1)
	if last <= first {
		return
	}
	// The range is inside s, which the caller holds: its memory stays
	// mapped for the call. An error (an old kernel) only means no advice.
	_ = syscall.Madvise(unsafe.Slice((*byte)(unsafe.Add(base, first-start)), last-first), syscall.MADV_HUGEPAGE)
}
