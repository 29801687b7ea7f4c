package testkit

import "io"

// ReadAll calls next (a bill or fund bill reader's Next) until it returns
// io.EOF, and returns a copy of every line it gave with the error that
// stopped it: nil at io.EOF, which a parser returns only once the file's
// stated totals held. The end is io.EOF itself, as the readers promise; a
// wrapped io.EOF is an error like any other.
func ReadAll[L any](next func() (*L, error)) ([]L, error) {
	var lines []L
	for {
		l, err := next()
		if err == io.EOF {
			return lines, nil
		}
		if err != nil {
			return lines, err
		}
		lines = append(lines, *l)
	}
}
