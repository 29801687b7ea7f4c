package ui

import (
	"strings"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// dialog is a modal: while one is open it takes every key first. Update
// returns the dialog to show next (itself, a follow-up such as the
// confirmation after a form, or nil when it closes).
type dialog interface {
	Update(msg tea.Msg) (dialog, tea.Cmd)
	View(c *programContext) string
}

// forDialog marks results of work a dialog started (a refund plan); the
// root hands them to the open dialog.
type forDialog interface{ forDialog() }

// confirmDialog asks before a destructive action. Plain confirmations
// accept y and nothing else, so a stray key never sends money; typed ones
// (large refunds) accept only the exact text, ended with enter.
type confirmDialog struct {
	title string
	lines []string
	// typed is what must be typed to confirm; empty for y/N.
	typed string
	input textinput.Model
	onYes tea.Cmd
	// cancelled is said when the operator backs out.
	cancelled string
}

func newConfirm(t *theme, title string, lines []string, typed string, onYes tea.Cmd, cancelled string) *confirmDialog {
	d := &confirmDialog{title: title, lines: lines, typed: typed, onYes: onYes, cancelled: cancelled}
	if typed != "" {
		d.input = newInput(t, "", 40)
		d.input.Focus()
	}
	return d
}

func (d *confirmDialog) Update(msg tea.Msg) (dialog, tea.Cmd) {
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return d, nil
	}
	if d.typed == "" {
		if k.String() == "y" || k.String() == "Y" {
			return nil, d.onYes
		}
		return nil, toastCmd(toastInfo, d.cancelled)
	}
	switch k.Type {
	case tea.KeyEsc, tea.KeyCtrlC:
		return nil, toastCmd(toastInfo, d.cancelled)
	case tea.KeyEnter:
		if strings.TrimSpace(d.input.Value()) == d.typed {
			return nil, d.onYes
		}
		return nil, toastCmd(toastInfo, "not confirmed: what was typed is not "+d.typed+"; "+d.cancelled)
	}
	var cmd tea.Cmd
	d.input, cmd = d.input.Update(msg)
	return d, cmd
}

func (d *confirmDialog) View(c *programContext) string {
	var b strings.Builder
	b.WriteString(c.theme.Title.Render(d.title))
	b.WriteString("\n\n")
	for _, l := range d.lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	if d.typed == "" {
		b.WriteString(c.theme.Key.Render("y") + " to confirm · any other key cancels")
	} else {
		b.WriteString("Type " + c.theme.Key.Render(d.typed) + " and press enter to confirm (esc cancels):\n")
		b.WriteString("> " + d.input.View())
	}
	return dialogBox(c, b.String())
}

// dialogBox frames a dialog and centres it in the body.
func dialogBox(c *programContext, content string) string {
	return lipgloss.Place(c.width, bodyHeight(c), lipgloss.Center, lipgloss.Center, framedBox(c, content))
}

// framedBox is a dialog's frame around content, at most 76 cells wide.
func framedBox(c *programContext, content string) string {
	w := min(76, c.width-4)
	if w < 20 {
		w = max(c.width, 1)
	}
	return c.theme.Dialog.Width(w - 2).Render(content)
}

// overlay draws box centred over bg (w×h cells), with bg dimmed around it:
// what is behind a card stays in view.
func overlay(t *theme, bg, box string, w, h int) string {
	rows := strings.Split(padLines(bg, h), "\n")
	for i, r := range rows {
		rows[i] = ansi.Strip(r)
	}
	lines := strings.Split(box, "\n")
	bw := lipgloss.Width(box)
	x, y := max((w-bw)/2, 0), max((h-len(lines))/2, 0)
	for i, r := range rows {
		j := i - y
		if j < 0 || j >= len(lines) {
			rows[i] = t.Dim.Render(r)
			continue
		}
		left := ansi.Truncate(r, x, "")
		left += strings.Repeat(" ", x-ansi.StringWidth(left))
		right := ansi.TruncateLeft(r, x+bw, "")
		rows[i] = t.Dim.Render(left) + lines[j] + t.Dim.Render(right)
	}
	return strings.Join(rows, "\n")
}

// newInput makes a text input with a steady cursor: a blinking one would
// keep a timer running and make every frame differ.
func newInput(t *theme, placeholder string, width int) textinput.Model {
	ti := t.input(textinput.New())
	ti.Prompt = ""
	ti.Placeholder = placeholder
	ti.Width = width
	ti.Cursor.SetMode(cursor.CursorStatic)
	return ti
}

// wrap breaks text at spaces to lines of at most w cells.
func wrap(s string, w int) []string {
	if w <= 0 {
		return []string{s}
	}
	var out []string
	for _, para := range strings.Split(s, "\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			switch {
			case line == "":
				line = word
			case lipgloss.Width(line)+1+lipgloss.Width(word) <= w:
				line += " " + word
			default:
				out = append(out, line)
				line = word
			}
		}
		out = append(out, line)
	}
	return out
}

// promptDialog asks for one line of text (a resolution note, a bill file
// path); enter submits it, esc cancels.
type promptDialog struct {
	title    string
	lines    []string
	input    textinput.Model
	required string // the error when submitted empty; "" allows empty
	err      string
	submit   func(string) tea.Cmd
}

func newPrompt(t *theme, title string, lines []string, placeholder, required string, submit func(string) tea.Cmd) *promptDialog {
	d := &promptDialog{title: title, lines: lines, required: required, submit: submit}
	d.input = newInput(t, placeholder, 60)
	d.input.CharLimit = 500
	d.input.Focus()
	return d
}

func (d *promptDialog) Update(msg tea.Msg) (dialog, tea.Cmd) {
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return d, nil
	}
	switch k.Type {
	case tea.KeyEsc, tea.KeyCtrlC:
		return nil, toastCmd(toastInfo, "cancelled; nothing was changed")
	case tea.KeyEnter:
		v := strings.TrimSpace(d.input.Value())
		if v == "" && d.required != "" {
			d.err = d.required
			return d, nil
		}
		return nil, d.submit(v)
	}
	var cmd tea.Cmd
	d.input, cmd = d.input.Update(msg)
	return d, cmd
}

func (d *promptDialog) View(c *programContext) string {
	var b strings.Builder
	b.WriteString(c.theme.Title.Render(d.title))
	b.WriteString("\n\n")
	for _, l := range d.lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	b.WriteString("\n> " + d.input.View())
	if d.err != "" {
		b.WriteString("\n" + c.theme.Bad.Render("error: "+d.err))
	}
	b.WriteString("\n\n" + c.theme.Dim.Render("enter to save · esc cancels"))
	return dialogBox(c, b.String())
}
