// Package directio writes a large file that nothing reads back soon past
// the page cache (O_DIRECT on Linux): a kept copy of a bill. Written
// through the cache, every 4 KiB of it takes a page of memory first, and
// on a VM that hands its free memory back to the host (as this project's
// do) taking those pages is the slow part of the copy, and slows every
// other allocation of the run with it (bench/README.md, "the kept bill").
// Where the file system or the OS does not take O_DIRECT, the writer
// writes through the cache as any other.
package directio
