package exports

import (
	"bytes"
	"compress/flate"
	"io"
	"runtime"
)

// deflateBlock is how much input one worker compresses at a time: large
// enough that the restart at each block costs nothing measurable in size,
// small enough that a few in flight stay a few megabytes.
const deflateBlock = 4 << 20

// parallelDeflate is a deflate writer that keeps every core busy: the
// input is cut into blocks that are compressed independently and written
// out in order. Each block but the last ends with a sync flush (an empty
// stored block: byte-aligned and not final) and the last is closed, so the
// concatenation is one valid deflate stream that any inflater reads. At
// flate.BestSpeed the Go compressor keeps no dictionary across blocks
// anyway, so nothing is lost by cutting.
//
// Compressing the sheets is the last third of a million-line export and
// otherwise runs on one core while the other idles.
type parallelDeflate struct {
	buf   []byte
	queue chan chan []byte // compressed blocks, in input order
	done  chan error
}

func newParallelDeflate(out io.Writer) *parallelDeflate {
	p := &parallelDeflate{
		buf:   make([]byte, 0, deflateBlock),
		queue: make(chan chan []byte, runtime.GOMAXPROCS(0)),
		done:  make(chan error, 1),
	}
	go func() {
		var err error
		for res := range p.queue {
			b := <-res
			if err == nil {
				_, err = out.Write(b)
			}
		}
		p.done <- err
	}()
	return p
}

func (p *parallelDeflate) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		k := min(len(b), deflateBlock-len(p.buf))
		p.buf = append(p.buf, b[:k]...)
		b = b[k:]
		if len(p.buf) == deflateBlock {
			p.submit(false)
		}
	}
	return n, nil
}

// submit hands the buffered block to a worker. The queue's capacity bounds
// the blocks in flight, so a fast writer waits for the compressors.
func (p *parallelDeflate) submit(last bool) {
	block := p.buf
	p.buf = make([]byte, 0, deflateBlock)
	res := make(chan []byte, 1)
	p.queue <- res
	go func() {
		var out bytes.Buffer
		out.Grow(len(block)/4 + 64)
		w, _ := flate.NewWriter(&out, flate.BestSpeed) // a valid level never fails
		w.Write(block)                                 // writes to a bytes.Buffer do not fail
		if last {
			w.Close()
		} else {
			w.Flush()
		}
		res <- out.Bytes()
	}()
}

// Close compresses what is left, ends the stream and waits until all of it
// is written; it returns the first error writing it out.
func (p *parallelDeflate) Close() error {
	p.submit(true)
	close(p.queue)
	return <-p.done
}
