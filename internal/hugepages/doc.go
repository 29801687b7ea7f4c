// Package hugepages asks the kernel to back a large table with huge pages
// (2 MiB instead of 4 KiB) where it can: a hash table probed at random
// across hundreds of megabytes (a bill's keys, a day's order index) misses
// the TLB on nearly every probe with small pages, and takes a page fault
// for every 4 KiB of its first writes. It is advice only: a kernel that
// does not take it (THP disabled, another OS) leaves the table as it was.
package hugepages
