package ui

import (
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// targeted is a result of background work meant for one view only.
type targeted interface{ target() viewID }

// toastKind says how a toast reads; each kind also has a text prefix so
// NO_COLOR shows the difference.
type toastKind int

const (
	toastInfo toastKind = iota
	toastOK
	toastErr
)

// toastMsg shows a message in the status bar until it expires.
type toastMsg struct {
	kind toastKind
	text string
}

type toastExpiredMsg struct{ id int }

func toastCmd(kind toastKind, text string) tea.Cmd {
	return func() tea.Msg { return toastMsg{kind, text} }
}

// errToast turns an ops error into a toast: errors are shown, never fatal.
func errToast(what string, err error) tea.Cmd {
	return toastCmd(toastErr, what+": "+err.Error())
}

type clockMsg time.Time

// openDialogMsg asks the root to show a modal (a confirmation or a form).
type openDialogMsg struct{ d dialog }

// open shows a dialog as soon as the current Update returns. It is not a
// message: keys typed right after the one that opened it must already go
// to the dialog, not race it through the event loop.
func (c *programContext) open(d dialog) tea.Cmd {
	c.pending = d
	return nil
}

// jumpMsg moves to a view and, for orders, opens one order's timeline.
type jumpMsg struct {
	to    viewID
	order string
}

// quitMsg is `:q`.
type quitMsg struct{}

// taskMsg is one message from a background task; progress messages come
// until the task's final result, after which its channel is closed.
type taskMsg struct {
	ch  chan tea.Msg
	msg tea.Msg
}

// taskStartedMsg tells the root to show a task in the status bar.
type taskStartedMsg struct {
	id    int
	label string
}

// startTask runs work in a goroutine. work reports progress with report
// (never blocking: a progress message is dropped when the UI is behind,
// since the next one supersedes it) and returns the final message. The
// root shows the task with a spinner until its final message arrives.
func (c *programContext) startTask(label string, work func(id int, report func(tea.Msg)) tea.Msg) tea.Cmd {
	c.taskSeq++
	id := c.taskSeq
	ch := make(chan tea.Msg, 16)
	run := func() tea.Msg {
		go func() {
			final := work(id, func(m tea.Msg) {
				select {
				case ch <- m:
				default:
				}
			})
			ch <- taskFinal{id: id, msg: final}
			close(ch)
		}()
		return waitTask(ch)()
	}
	return tea.Batch(func() tea.Msg { return taskStartedMsg{id, label} }, run)
}

// taskFinal wraps a task's last message so the root can end the task.
type taskFinal struct {
	id  int
	msg tea.Msg
}

func waitTask(ch chan tea.Msg) tea.Cmd {
	return func() tea.Msg {
		m, ok := <-ch
		if !ok {
			return nil
		}
		return taskMsg{ch: ch, msg: m}
	}
}
