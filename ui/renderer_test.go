package ui

import (
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"github.com/paydesk/paydesk/ops"
)

// TestStylesComeFromTheGivenRenderer: with a renderer of its own (as each
// SSH session has), the console draws every style through it — the
// theme, the help line's keys, a focused input's cursor — although
// lipgloss's global renderer here draws none (TestMain sets ASCII). The
// same frames without colour are the goldens': only the styling differs.
func TestStylesComeFromTheGivenRenderer(t *testing.T) {
	f := newFixture(t, ops.Admin, true)
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.TrueColor)
	r.SetHasDarkBackground(true)
	opts := testOptions()
	opts.Renderer = r
	coloured := newModel(t, f, opts, 100, 30)
	plain := newModel(t, f, testOptions(), 100, 30)

	frame := coloured.View()
	for what, re := range map[string]*regexp.Regexp{
		"the brand (the theme's bold accent)":   regexp.MustCompile(`\x1b\[1;38;2;88;166;255mpaydesk`),
		"the help keys (the help bubble's own)": regexp.MustCompile(`\x1b\[38;2;\d+;\d+;\d+m/\x1b\[0m \x1b\[38;2;\d+;\d+;\d+mfilter`),
	} {
		if !re.MatchString(frame) {
			t.Errorf("%s is not drawn by the session's renderer (no %s)", what, re)
		}
	}
	if ansi.Strip(frame) != plain.View() {
		t.Errorf("the coloured frame's text differs from the plain one:\n%s\n---\n%s", ansi.Strip(frame), plain.View())
	}
	if sgr := "\x1b["; strings.Contains(plain.View(), sgr) {
		t.Errorf("the console without a renderer of its own drew styles under the ASCII profile")
	}

	// The filter input: its cursor (reverse) and placeholder (grey) come
	// from the input's own styles, rebound to the session's renderer.
	press(t, coloured, "/")
	line := strings.Split(coloured.View(), "\n")[2]
	if !strings.HasPrefix(line, "/ \x1b[7ms\x1b[0m\x1b[38;5;240mtatus:paid") {
		t.Errorf("the filter input's cursor and placeholder are not drawn by the session's renderer: %q", line)
	}
}

// TestSettledColoursDrawAsLipglossWould: a colour settled once for a
// renderer draws exactly as lipgloss draws the adaptive colour on each
// render, for every profile and both backgrounds.
func TestSettledColoursDrawAsLipglossWould(t *testing.T) {
	colours := []lipgloss.AdaptiveColor{{Light: "#1F6FEB", Dark: "#58A6FF"}, {Light: "#CF222E", Dark: "#FF7B72"},
		{Light: "#9A6700", Dark: "#E3B341"}, {Light: "#909090", Dark: "#626262"}, {Light: "#DDDADA", Dark: "#3C3C3C"}}
	for _, p := range []termenv.Profile{termenv.TrueColor, termenv.ANSI256, termenv.ANSI, termenv.Ascii} {
		for _, dark := range []bool{true, false} {
			r := lipgloss.NewRenderer(io.Discard)
			r.SetColorProfile(p)
			r.SetHasDarkBackground(dark)
			for _, c := range colours {
				want := r.NewStyle().Foreground(c).Bold(true).Render("x")
				if got := r.NewStyle().Foreground(settledColour(r, c)).Bold(true).Render("x"); got != want {
					t.Errorf("profile %d, dark %v, %v: %q; lipgloss draws %q", p, dark, c, got, want)
				}
			}
		}
	}
}
