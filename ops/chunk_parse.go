package ops

import (
	"context"
	"errors"
	"io"
)

// chunkParse is a bill's rows parsed into chunks on a goroutine of its own
// while the run takes them from chunks (a trade run's lines, a fund run's
// movements and the trade bill it expects bookings from). The run gives
// the chunks it is done with back (spare), to be filled again: the
// matchers keep no row. On any return it stops the parse (stop), which
// waits for it, so that it never reads a closed file or reports
// afterwards.
type chunkParse[T any] struct {
	chunks <-chan []T
	spent  chan []T
	parsed chan error // the parse's outcome, there before chunks closes
	cancel context.CancelFunc
}

// chunkQueue is how many parsed chunks wait for the run at most: beside
// them, the parser fills one and the run takes one.
const chunkQueue = 8

// parseChunks starts reading rows with next into chunks of size. sent is
// told the count after each chunk. finished, when not nil, is told the
// count and the parse's error once every row is read (a bill reaches
// io.EOF only after it has checked its totals) or the parse failed; by
// then wait and failure see that error.
func parseChunks[T any](ctx context.Context, next func() (*T, error), size int, sent func(n int), finished func(n int, err error)) *chunkParse[T] {
	ctx, cancel := context.WithCancel(ctx)
	chunks := make(chan []T, chunkQueue)
	p := &chunkParse[T]{chunks: chunks, spent: make(chan []T, 10), parsed: make(chan error, 1), cancel: cancel}
	go func() {
		defer close(chunks)
		n, err := streamChunks(ctx, next, chunks, p.spent, size, sent)
		p.parsed <- err // buffered: never blocks
		if finished != nil {
			finished(n, err)
		}
	}()
	return p
}

// spare gives a chunk the run is done with back to the parser.
func (p *chunkParse[T]) spare(chunk []T) {
	select {
	case p.spent <- chunk:
	default:
	}
}

// stop ends the parse and waits for it.
func (p *chunkParse[T]) stop() {
	p.cancel()
	for range p.chunks {
	}
}

// wait returns the parse's error once chunks is closed. It is called at
// most once, and not after failure.
func (p *chunkParse[T]) wait() error { return <-p.parsed }

// failure returns the parse's error if it has already failed, without
// waiting: a run that stops for another reason prefers the bill's own
// error to its "canceled".
func (p *chunkParse[T]) failure() error {
	select {
	case err := <-p.parsed:
		return err
	default:
		return nil
	}
}

// streamChunks reads items with next until io.EOF and sends them in chunks
// of size, filling again the chunks the reader hands back on spent (which
// may be nil); sent is told the count after each chunk. It returns how many
// were read, or next's error, or ctx's when the reader stopped listening.
func streamChunks[T any](ctx context.Context, next func() (*T, error), chunks chan<- []T, spent <-chan []T, size int, sent func(n int)) (int, error) {
	fresh := func() []T {
		select {
		case c := <-spent:
			return c[:0]
		default:
			return make([]T, 0, size)
		}
	}
	chunk := fresh()
	n := 0
	send := func() error {
		select {
		case chunks <- chunk:
			n += len(chunk)
			sent(n)
			chunk = fresh()
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for {
		l, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, err
		}
		chunk = append(chunk, *l)
		if len(chunk) == size {
			if err := send(); err != nil {
				return n, err
			}
		}
	}
	if len(chunk) > 0 {
		if err := send(); err != nil {
			return n, err
		}
	}
	return n, nil
}
