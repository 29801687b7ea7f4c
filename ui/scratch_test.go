package ui

import (
	"fmt"
	"testing"

	"github.com/paydesk/paydesk/ops"
)

func TestScratch(t *testing.T) {
	f := newFixture(t, ops.Admin, true)
	m := newModel(t, f, testOptions(), 100, 30)
	fmt.Println(m.View())
	press(t, m, "j", "enter")
	fmt.Println(m.View())
	press(t, m, "esc", "3")
	fmt.Println(m.View())
	press(t, m, "enter")
	fmt.Println(m.View())
}
