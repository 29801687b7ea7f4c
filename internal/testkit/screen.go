package testkit

import (
	"strings"
	"sync"

	"github.com/charmbracelet/x/ansi"
)

// Screen is a small terminal for tests and benchmarks that read what a
// console drew over a byte stream (an SSH session) rather than from a
// tmux pane: it keeps the characters of the screen and moves the cursor as
// Bubble Tea's renderer asks (CR, LF, cursor moves and positions, erases,
// the alternate screen), ignoring colours and modes. It answers nothing;
// Queries reports the terminal queries it was sent, for the caller to
// answer as a terminal would.
type Screen struct {
	mu     sync.Mutex
	w, h   int
	cells  [][]rune // wideCell marks the second column of a wide rune
	x, y   int
	p      *ansi.Parser
	writes int
	// queries counts the background-colour (OSC 11) and device-attribute
	// (DA1) requests received.
	bgQueries, daQueries int
}

const wideCell rune = -1

// NewScreen is a blank w×h screen.
func NewScreen(w, h int) *Screen {
	s := &Screen{w: w, h: h, p: ansi.NewParser()}
	s.clear()
	s.p.SetHandler(ansi.Handler{
		Print:     s.print,
		Execute:   s.execute,
		HandleCsi: s.csi,
		HandleOsc: func(cmd int, data []byte) {
			if cmd == 11 && strings.HasSuffix(string(data), "?") {
				s.bgQueries++
			}
		},
	})
	return s
}

// Write takes what the program wrote.
func (s *Screen) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.p.Parse(b)
	s.writes++
	return len(b), nil
}

// Resize changes the size, keeping what fits (the program repaints).
func (s *Screen) Resize(w, h int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.cells
	s.w, s.h = w, h
	s.clear()
	for y := 0; y < min(h, len(old)); y++ {
		copy(s.cells[y], old[y])
	}
	s.x, s.y = min(s.x, w-1), min(s.y, h-1)
}

// Queries is how many background-colour and device-attribute requests
// the program has sent so far.
func (s *Screen) Queries() (background, deviceAttributes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bgQueries, s.daQueries
}

// Lines are the screen's rows, trailing spaces cut.
func (s *Screen) Lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, s.h)
	for y, row := range s.cells {
		var b strings.Builder
		for _, r := range row {
			if r != wideCell {
				b.WriteRune(r)
			}
		}
		out[y] = strings.TrimRight(b.String(), " ")
	}
	return out
}

// String is the screen, one row a line.
func (s *Screen) String() string { return strings.Join(s.Lines(), "\n") }

func (s *Screen) clear() {
	s.cells = make([][]rune, s.h)
	for y := range s.cells {
		s.cells[y] = blankRow(s.w)
	}
}

func blankRow(w int) []rune {
	row := make([]rune, w)
	for i := range row {
		row[i] = ' '
	}
	return row
}

func (s *Screen) print(r rune) {
	w := ansi.StringWidth(string(r))
	if w == 0 || s.x+w > s.w || s.y >= s.h {
		return
	}
	s.cells[s.y][s.x] = r
	if w == 2 {
		s.cells[s.y][s.x+1] = wideCell
	}
	s.x += w
}

func (s *Screen) execute(b byte) {
	switch b {
	case '\r':
		s.x = 0
	case '\n':
		if s.y == s.h-1 {
			copy(s.cells, s.cells[1:])
			s.cells[s.h-1] = blankRow(s.w)
		} else {
			s.y++
		}
	case '\b':
		s.x = max(0, s.x-1)
	}
}

func (s *Screen) csi(cmd ansi.Cmd, params ansi.Params) {
	n := func(i, def int) int {
		v, _, _ := params.Param(i, def)
		return max(v, def)
	}
	switch {
	case cmd.Prefix() == '?' && (cmd.Final() == 'h' || cmd.Final() == 'l'):
		for i := range params {
			if v, _, _ := params.Param(i, 0); v == 1049 || v == 47 || v == 1047 {
				s.clear() // into or out of the alternate screen
			}
		}
		return
	case cmd.Prefix() != 0:
		return
	}
	switch cmd.Final() {
	case 'c':
		s.daQueries++
	case 'A':
		s.y = max(0, s.y-n(0, 1))
	case 'B':
		s.y = min(s.h-1, s.y+n(0, 1))
	case 'C':
		s.x = min(s.w-1, s.x+n(0, 1))
	case 'D':
		s.x = max(0, s.x-n(0, 1))
	case 'G':
		s.x = min(s.w-1, n(0, 1)-1)
	case 'H', 'f':
		s.y, s.x = min(s.h-1, n(0, 1)-1), min(s.w-1, n(1, 1)-1)
	case 'J':
		v, _, _ := params.Param(0, 0)
		switch v {
		case 0:
			s.eraseLine(0)
			for y := s.y + 1; y < s.h; y++ {
				s.cells[y] = blankRow(s.w)
			}
		case 1:
			s.eraseLine(1)
			for y := 0; y < s.y; y++ {
				s.cells[y] = blankRow(s.w)
			}
		default:
			s.clear()
		}
	case 'K':
		v, _, _ := params.Param(0, 0)
		s.eraseLine(v)
	}
}

// eraseLine erases the cursor's row: 0 to its end, 1 to its start, 2 all.
func (s *Screen) eraseLine(mode int) {
	row := s.cells[s.y]
	from, to := s.x, s.w
	switch mode {
	case 1:
		from, to = 0, s.x+1
	case 2:
		from = 0
	}
	for i := from; i < min(to, s.w); i++ {
		row[i] = ' '
	}
}
