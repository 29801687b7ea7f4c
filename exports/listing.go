package exports

import (
	"fmt"
	"io"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/store"
)

// About describes a listing export; it is written on the listing's About
// sheet so that a file passed on says what it holds.
type About struct {
	// Filter says in words what was selected ("status PAID, channel
	// alipay"); empty means everything.
	Filter     string
	Zone       *time.Location
	ExportedAt time.Time
	ExportedBy string
}

// AboutSheet is the last sheet of every listing export.
const AboutSheet = "About"

// pageSource is a listing read page by page (keyset paging in the store):
// next returns the following page, and an empty one at the end.
type pageSource[T any] func() ([]T, error)

// writeListing streams every page through row into one table, then writes
// the About sheet.
func writeListing[T any](w io.Writer, title string, cols []column, totals bool, about About, next pageSource[T], row func(*table, *T) error) (Result, error) {
	b, err := newBook(about.Zone, excelize.DocProperties{Title: title, Description: about.Filter})
	if err != nil {
		return Result{}, err
	}
	// A failed export must not leave excelize's stream spill files behind
	// (Close is idempotent, and write calls it on success too).
	defer b.f.Close()
	t := b.newTable(title, cols, totals)
	for {
		page, err := next()
		if err != nil {
			return Result{}, err
		}
		if len(page) == 0 {
			break
		}
		for i := range page {
			if err := row(t, &page[i]); err != nil {
				return Result{}, err
			}
		}
	}
	if err := t.close(); err != nil {
		return Result{}, err
	}
	if err := writeAbout(b, title, t.rows, about); err != nil {
		return Result{}, err
	}
	if err := b.write(w); err != nil {
		return Result{}, err
	}
	return b.result(), nil
}

func writeAbout(b *book, title string, rows int, about About) error {
	if err := b.addSheet(AboutSheet); err != nil {
		return err
	}
	filter := about.Filter
	if filter == "" {
		filter = "everything"
	}
	sh := AboutSheet
	kv := [][2]any{
		{"Export", title},
		{"Selected", filter},
		{"Rows", rows},
		{"Exported at", about.ExportedAt},
		{"Exported by", about.ExportedBy},
		{"Times", fmt.Sprintf("in %s, the business zone", b.zone)},
		{"Money", "yuan, exact to the fen"},
	}
	for i, e := range kv {
		r := i + 1
		if err := b.f.SetCellValue(sh, cellName(1, r), e[0]); err != nil {
			return err
		}
		if err := b.f.SetCellStyle(sh, cellName(1, r), cellName(1, r), b.label); err != nil {
			return err
		}
		style := b.cell[plain][text]
		v := e[1]
		switch x := v.(type) {
		case time.Time:
			v, style = excelSerial(x, b.zone), b.cell[plain][stamp]
		case int:
			style = b.cell[plain][count]
		}
		if err := b.f.SetCellValue(sh, cellName(2, r), v); err != nil {
			return err
		}
		if err := b.f.SetCellStyle(sh, cellName(2, r), cellName(2, r), style); err != nil {
			return err
		}
	}
	if err := b.f.SetColWidth(sh, "A", "A", 14); err != nil {
		return err
	}
	return b.f.SetColWidth(sh, "B", "B", float64(min(80, max(22, displayWidth(filter)+2))))
}

// OrderRow is an order as the Orders export writes it: the local record
// beside the platform's state from its latest live query and the outcome
// of its latest callback.
type OrderRow struct {
	store.Order
	PlatformState string    // latest live query's answer; "" when never queried
	QueriedAt     time.Time // when that query was made
	Callback      string    // apply status of the newest notification; "" when none
	Disagrees     bool      // the platform's last word contradicts the local status
}

// OrdersSheet names the Orders export's listing sheet.
const OrdersSheet = "Orders"

var orderColumns = []column{
	{name: "Created", kind: stamp},
	{name: "out_trade_no", kind: text},
	{name: "Channel", kind: text},
	{name: "Subject", kind: text, max: 40},
	{name: "Amount", kind: money},
	{name: "Currency", kind: text},
	{name: "Status", kind: text},
	{name: "Refunded", kind: money},
	{name: "trade_no", kind: text},
	{name: "Paid at", kind: stamp},
	{name: "Paid via", kind: text},
	{name: "Platform state", kind: text},
	{name: "Queried at", kind: stamp},
	{name: "Disagrees", kind: text},
	{name: "Callback", kind: text},
	{name: "Updated", kind: stamp},
}

// Orders writes a listing of orders, one page at a time from next (keyset
// pages: a million orders are never held), with a total row; orders whose
// platform state disagrees with the local one are highlighted.
func Orders(w io.Writer, next func() ([]OrderRow, error), about About) (Result, error) {
	return writeListing(w, OrdersSheet, orderColumns, true, about, next, func(t *table, o *OrderRow) error {
		tn, disagrees := plain, ""
		if o.Disagrees {
			tn, disagrees = warning, "yes"
		}
		return t.add(tn, o.CreatedAt, o.OutTradeNo, string(o.Channel), gateway.MaskBuyerIDs(o.Subject), o.Amount, o.Currency, string(o.Status),
			o.Refunded, o.TradeNo, o.PaidAt, string(o.PaidVia), o.PlatformState, o.QueriedAt, disagrees, o.Callback, o.UpdatedAt)
	})
}

// NotificationsSheet names the Notifications export's listing sheet.
const NotificationsSheet = "Notifications"

var notificationColumns = []column{
	{name: "ID", kind: count},
	{name: "Received", kind: stamp},
	{name: "Channel", kind: text},
	{name: "Event", kind: text},
	{name: "out_trade_no", kind: text},
	{name: "trade_no", kind: text},
	{name: "out_request_no", kind: text},
	{name: "Amount", kind: money},
	{name: "Verification", kind: text},
	{name: "Outcome", kind: text},
	{name: "Needs attention", kind: text},
	{name: "Detail", kind: text, max: 60},
	{name: "Attempts", kind: count},
	{name: "Last attempt", kind: stamp},
	{name: "From", kind: text},
	{name: "Notify id", kind: text},
}

// Notifications writes a listing of stored callbacks with their outcome.
// The raw request — headers with the platform's signature, and the body
// with the buyer's identity — is never written; free text is masked.
func Notifications(w io.Writer, next func() ([]store.Notification, error), about About) (Result, error) {
	return writeListing(w, NotificationsSheet, notificationColumns, false, about, next, func(t *table, n *store.Notification) error {
		tn, attention := plain, ""
		if n.ApplyStatus.Failed() {
			tn, attention = warning, "yes"
		}
		if n.VerifyStatus == store.Rejected {
			tn = critical
		}
		var amount any
		if n.Amount != nil {
			amount = *n.Amount
		}
		detail := n.ApplyDetail
		if detail == "" {
			detail = n.VerifyError
		}
		return t.add(tn, n.ID, n.ReceivedAt, string(n.Channel), string(n.Event), n.OutTradeNo, n.TradeNo, n.OutRequestNo, amount,
			string(n.VerifyStatus), string(n.ApplyStatus), attention, gateway.MaskBuyerIDs(detail), n.Attempts, n.LastAttemptAt,
			n.RemoteAddr, n.NotifyID)
	})
}

// AuditSheet names the audit export's listing sheet.
const AuditSheet = "Audit"

var auditColumns = []column{
	{name: "ID", kind: count},
	{name: "At", kind: stamp},
	{name: "Operator", kind: text},
	{name: "Role", kind: text},
	{name: "Action", kind: text},
	{name: "Target", kind: text, max: 50},
	{name: "Outcome", kind: text},
	{name: "Detail", kind: text, max: 60},
	{name: "Error", kind: text, max: 60},
	{name: "Via", kind: text},
}

// Audit writes a listing of the audit log; refused actions are red, failed
// ones yellow.
func Audit(w io.Writer, next func() ([]store.AuditEntry, error), about About) (Result, error) {
	return writeListing(w, AuditSheet, auditColumns, false, about, next, func(t *table, e *store.AuditEntry) error {
		tn := plain
		switch e.Outcome {
		case store.AuditDenied:
			tn = critical
		case store.AuditError:
			tn = warning
		}
		return t.add(tn, e.ID, e.At, e.Operator, e.Role, e.Action, gateway.MaskBuyerIDs(e.Target), string(e.Outcome),
			gateway.MaskBuyerIDs(e.Detail), gateway.MaskBuyerIDs(e.Error), e.Via)
	})
}
