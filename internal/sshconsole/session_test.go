package sshconsole

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/ops"
)

// sgr matches a colour or text attribute the renderer sent (bold, reverse,
// a 16-, 256- or true-colour foreground), not the plain reset.
var sgr = regexp.MustCompile(`\x1b\[[0-9;]*(?:3[0-9]|38;5;\d+|38;2;[\d;]+|1|7)m`)

// TestEachSessionHasItsOwnTerminal: two people at once, one on a 256-colour
// terminal of 100×30 with the mouse on, one on 80×24 under NO_COLOR: each
// console draws at its own size, in its own colours, with its own mouse
// setting; a window change resizes only the one whose window changed.
func TestEachSessionHasItsOwnTerminal(t *testing.T) {
	h := startConsole(t, []*person{{name: "li.na", role: ops.Support}, {name: "zhao.min", role: ops.Viewer}}, harnessOptions{})
	h.paidOrder(t, "PDSSHTERM00001", 1200)
	colour := h.open(t, "li.na", termOptions{cols: 100, rows: 30, command: "mouse"})
	plain := h.open(t, "zhao.min", termOptions{cols: 80, rows: 24, env: map[string]string{"NO_COLOR": "1"}})
	colour.waitText(screenTimeout, "PDSSHTERM00001")
	plain.waitText(screenTimeout, "PDSSHTERM00001")

	if !sgr.MatchString(colour.output()) {
		t.Errorf("the xterm-256color session got no colours")
	}
	if m := sgr.FindString(plain.output()); m != "" {
		t.Errorf("the NO_COLOR session got %q", m)
	}
	const cellMotion = "\x1b[?1002h"
	if !strings.Contains(colour.output(), cellMotion) {
		t.Errorf("the session that asked for the mouse did not get mouse reporting")
	}
	if strings.Contains(plain.output(), cellMotion) {
		t.Errorf("the session without the mouse got mouse reporting")
	}

	// Sized each to its own window: the header (a long workspace path in
	// the middle) ends with the clock exactly at the right edge, on the
	// top row, and the key help is on the bottom row. Drawn for a wider
	// window the clock would be cut off; for a taller one the header would
	// have scrolled away.
	clock := regexp.MustCompile(`^paydesk .*\d{2}:\d{2}:\d{2}$`)
	sized := func(tm *term, cols, rows int) func(string) bool {
		return func(string) bool {
			l := tm.screen.Lines()
			return len(l) == rows && len([]rune(l[0])) == cols && clock.MatchString(l[0]) && strings.Contains(l[rows-1], "? help")
		}
	}
	colour.waitFor("the console at 100×30", screenTimeout, sized(colour, 100, 30))
	plain.waitFor("the console at 80×24", screenTimeout, sized(plain, 80, 24))
	if err := plain.sess.WindowChange(40, 120); err != nil {
		t.Fatal(err)
	}
	plain.screen.Resize(120, 40)
	plain.waitFor("the console redrawn at 120×40", screenTimeout, sized(plain, 120, 40))
	if !sized(colour, 100, 30)("") {
		t.Errorf("the other session changed size too:\n%s", colour.screen)
	}
}

// TestQuitAndIdleEndOnlyThatSession: q ends one person's session and the
// idle timeout another's, each with a clean exit, while a third person
// who keeps working is not disturbed.
func TestQuitAndIdleEndOnlyThatSession(t *testing.T) {
	const idle = 3 * time.Second
	h := startConsole(t, []*person{{name: "li.na", role: ops.Support}, {name: "wang.wei", role: ops.Support}, {name: "zhao.min", role: ops.Viewer}},
		harnessOptions{idle: idle})
	quitter := h.open(t, "li.na", termOptions{})
	worker := h.open(t, "wang.wei", termOptions{})
	idler := h.open(t, "zhao.min", termOptions{})

	quitter.key("q")
	if code := quitter.waitEnded(screenTimeout); code != 0 {
		t.Errorf("q ended the session with status %d", code)
	}

	// The worker keeps pressing keys past the idle timeout; the idler
	// presses none.
	ended := make(chan int, 1)
	go func() {
		select {
		case <-idler.ended:
			ended <- 0
		case <-time.After(screenTimeout):
			ended <- -1
		}
	}()
	tabs := []string{"2", "1"}
	for i := 0; ; i++ {
		select {
		case r := <-ended:
			if r != 0 {
				t.Fatalf("the idle session is still open after %s", screenTimeout)
			}
		default:
			worker.key(tabs[i%2])
			time.Sleep(200 * time.Millisecond)
			continue
		}
		break
	}
	if code := idler.waitEnded(screenTimeout); code != 0 {
		t.Errorf("the idle session ended with status %d", code)
	}
	if out := idler.output(); !strings.Contains(out, "paydesk: no key pressed for 3s: session closed") {
		t.Errorf("the idle session was not told why it closed: %q", out[max(0, len(out)-200):])
	}
	worker.key("4")
	worker.waitText(screenTimeout, "[4 Refunds]")
	if n := h.srv.Sessions(); n != 1 {
		t.Errorf("%d sessions open; want the worker's alone", n)
	}
	logs := h.logs.String()
	for _, want := range []string{"user=li.na remote=", "how=quit", "user=zhao.min remote=", "how=idle"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log has no %q:\n%s", want, logs)
		}
	}
}
