package ui

import (
	"fmt"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/paydesk/paydesk/gateway"
)

// reconJumpMsg is `:recon CHANNEL DAY`.
type reconJumpMsg struct {
	channel gateway.Channel
	day     time.Time
}

func parseReconCommand(args []string, c *programContext) (reconJumpMsg, error) {
	if len(args) == 0 || len(args) > 2 {
		return reconJumpMsg{}, fmt.Errorf("usage: :recon alipay|wechat [YYYY-MM-DD]")
	}
	ch, err := gateway.ParseChannel(args[0])
	if err != nil {
		return reconJumpMsg{}, err
	}
	day := yesterday(c)
	if len(args) == 2 {
		if day, err = time.ParseInLocation(time.DateOnly, args[1], c.zone); err != nil {
			return reconJumpMsg{}, fmt.Errorf(":recon %s %s: want a date like 2026-11-22", args[0], args[1])
		}
	}
	return reconJumpMsg{channel: ch, day: day}, nil
}

// yesterday is the default business day: midnight before last in the
// platform zone, the newest day whose bill exists.
func yesterday(c *programContext) time.Time {
	n := c.now.In(c.zone)
	return time.Date(n.Year(), n.Month(), n.Day()-1, 0, 0, 0, 0, c.zone)
}

// reconView will run reconciliations once ops.RunRecon lands in main.
type reconView struct {
	c             *programContext
	width, height int
	channel       gateway.Channel
	day           time.Time
}

func newReconView(c *programContext) *reconView {
	v := &reconView{c: c, day: yesterday(c), channel: gateway.Alipay}
	if ch := c.svc.Channels(); len(ch) > 0 {
		v.channel = ch[0]
	}
	return v
}

func (v *reconView) Init() tea.Cmd                       { return nil }
func (v *reconView) SetSize(w, h int)                    { v.width, v.height = w, h }
func (v *reconView) Focused() bool                       { return false }
func (v *reconView) Update(tea.Msg) (tea.Model, tea.Cmd) { return v, nil }
func (v *reconView) jump(j reconJumpMsg) tea.Cmd {
	v.channel, v.day = j.channel, j.day
	return nil
}
func (v *reconView) View() string {
	return padLines(fmt.Sprintf("Reconcile %s %s", v.channel, v.day.Format(time.DateOnly)), v.height)
}
func (v *reconView) ShortHelp() []key.Binding  { return []key.Binding{v.c.keys.Help} }
func (v *reconView) FullHelp() [][]key.Binding { return [][]key.Binding{v.c.keys.globalHelp()} }
