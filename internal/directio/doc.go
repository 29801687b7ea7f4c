// Package directio writes files past the page cache (O_DIRECT on Linux):
// the kept copy of a bill, which nothing reads during the run (Writer),
// and a spilled day, read back once (File). Written through the cache,
// every 4 KiB of them takes a page of memory first; on a VM that hands its
// free memory back to the host (as this project's do), taking those pages
// is the slow part of the write, and slows every other first touch of
// memory in the run with it (bench/README.md, "past the page cache").
// Where the file system or the OS does not take O_DIRECT, both write
// through the cache as any other file.
package directio
