// Package recon owns reconciliation: it compares one platform bill for one
// (channel, business day) with paydesk's own records of that day and the
// notification facts, and says, for every booking, which ARCHITECTURE.md §5
// category it ends in, with per-category counts and amounts, fees and the
// net settlement, and the CROSS_DAY suspense carried between days; and,
// for the same day, the account's money movements (a fund bill) against
// its bookings (FundMatcher, "Fund flow" below).
//
// It is pure: normalized bill lines (gateway.BillLine, gateway.FundLine),
// local orders, refunds and notification facts in; findings and totals
// out. No clock, no SQL and no platform knowledge — it imports only
// gateway — and no I/O of its own: a day too large for memory is matched
// in parts through files the caller hands it (Input.Spill, spill.go). Bill
// parsing and the bill's self-check (stated totals against its lines) are the
// gateway parsers'; loading the records, saving the run and resolving
// findings are ops'.
//
// # Use
//
//	m, err := recon.NewMatcher(in)   // in: see "Filling Input" below
//	for each line of the bill, in file order:
//	    cat, err := m.Line(line)     // the category this line ended in
//	    // or, for throughput, chunks of parsed lines:
//	    err := m.Lines(chunk, cats)  // cats[i]: the category of chunk[i]
//	res := m.Finish()                // or res, err := m.Close() with Input.Spill
//
// The Matcher keeps an index of the day's orders and never keeps a line, so
// a bill of any length is matched in one pass, in memory proportional to
// the day's orders. Lines judges exactly like Line but looks a chunk up
// first so that memory reads overlap; with a million orders it is the
// faster way to feed a parsed bill.
//
// # Filling Input
//
// For a run of (channel C, business day D in the platforms' zone):
//
//   - Orders: every order that has a payment on C whose business day is D:
//     channel C and paid_at in [D, D+1) — or, without paid_at, created_at
//     in [D, D+1) — whatever its status now (a refunded order's payment is
//     still on D's bill); plus any order with an ExtraTrades payment on C
//     paid on D. Orders created on D but unpaid may be included; they only
//     speed up the lines that name them.
//   - each Order: paid_at from the platform's time, never the time paydesk
//     learned of the payment (a query at 09:30 for a payment made at 23:59
//     must record 23:59, or the wrong day expects it); NotifyVerified when
//     any verified payment notification for the order was received (only
//     orders not paid by notification need the look-up: paid_via notify
//     implies it);
//     NotifyRejected when any notification for it failed verification or
//     apply; ExtraTrades from the payments the callback intake recorded as
//     duplicates.
//   - Refunds: the refunds on C with status SUCCESS and refunded_at (the
//     platform's success time) in [D, D+1).
//   - LookupOrder / LookupRefund: by number, any day, any channel. They are
//     asked only for lines whose record is not in Orders / Refunds, once per
//     number.
//   - Suspense: the Carry of the run for D−1 on C (runs go day by day; a
//     missing day must be run first). SuspenseDays and CrossDayWindow from
//     the configuration, or zero for the defaults.
//   - Day: D 00:00 in the zone (gateway.Day(t, zone) gives it), Zone the
//     configured zone.
//
// Save Findings (and Counts, Computed, Fees, Net) as the run; keep Carry
// with the run as the next day's suspense (a Finding round-trips through
// encoding/json); mark the CROSS_DAY findings named
// in Settled as settled (same channel, kind, side, numbers and Day); show
// Notices without counting them as problems.
//
// # Items
//
// A booking is one payment or refund as one side records it: a bill line on
// the platform's side; on paydesk's side an order's recorded payment (its
// TradeNo on its Channel), each further verified payment in
// Order.ExtraTrades, and each refund. Matching pairs a platform booking with
// at most one local booking: payments by out_trade_no (then trade number),
// refunds by request number. Each pair, and each booking left without a
// partner, is one item, and each item ends in exactly one category:
//
//   - every bill line in the category Line returned for it;
//   - every local booking of this channel dated on this day that no line
//     paired in one finding (MISSING_PLATFORM, DUPLICATE_PAYMENT,
//     REFUND_MISMATCH or CROSS_DAY);
//   - local records not dated on this day, unpaid orders and pending or
//     failed refunds without a line are not expected on this bill and make
//     no item.
//
// So an order paid twice is two items: its recorded payment (judged
// normally) and the second payment (DUPLICATE_PAYMENT, with that payment's
// amount — the amount to refund). Result.Counts counts the items: MATCHED
// pairs plus, per category, exactly the findings.
//
// A local booking's day is the business day of its platform time (PaidAt,
// else CreatedAt; Payment.PaidAt; RefundedAt) in Input.Zone.
//
// # Payments and precedence
//
// A payment line is looked up by out_trade_no in the day's orders, then
// through LookupOrder (any day, any channel). Not found: MISSING_LOCAL.
// Found, but the order is of the other channel and not paid: MISSING_LOCAL
// too, since a payment on another channel is never an order's payment
// (paydesk records it, does not apply it). Found otherwise: the line is the order's recorded payment when it is on the order's
// channel under its trade number (or the order has none yet); a line that is
// an ExtraTrades payment, a second line for the order, or a payment on the
// other channel of an order already paid is a DUPLICATE_PAYMENT. The first
// line for an unpaid order is judged as its payment, so that only a second
// is a duplicate. The order's payment is then judged, the first rule that
// holds deciding:
//
//	DUPLICATE_PAYMENT  (decided above)
//	AMOUNT_MISMATCH    the line's amount is not the order's, paid locally or
//	                   not: a wrong amount can never become PAID by a query
//	                   or a replay (ARCHITECTURE.md §3 rule 2), so it needs investigation
//	UNPAID_LOCAL       the order is not PAID (nor REFUNDED/PARTIALLY_REFUNDED)
//	                   locally; a rejected notification is named in Detail
//	                   and NotifyStatus
//	CROSS_DAY          paydesk dates the payment on a later day than this
//	                   bill (the platform booked first): held, and judged in
//	                   full when that later day is reconciled
//	FEE_MISMATCH       Input.FeeRate is set and the line's fee is more than a
//	                   fen off the rate's (gateway.FeeRate.Fee: half up to
//	                   the fen); a fen either way is rounding — a refund in
//	                   parts gives back fees that telescope over the total
//	NOTIFY_REJECTED    a notification failed verification or apply, and no
//	                   verified one was ever received
//	NOTIFY_MISSING     no verified payment notification was received (paid by
//	                   a live query or by import)
//	MATCHED
//
// A notification counts as verified when Order.NotifyVerified is set or the
// order was paid by one (PaidVia notify: ARCHITECTURE.md §3 rule 2 admits no other way).
// A rejected notification followed by a verified one is therefore MATCHED:
// the callback path worked in the end and the rejection stays visible in
// the notification log.
//
// Refund lines are paired by request number (the day's refunds, then
// LookupRefund): REFUND_MISMATCH when paydesk has no such request, the
// request is on another order or channel, the bill books it twice, paydesk
// has it FAILED or still PENDING, or the amounts differ; else CROSS_DAY
// when paydesk dates its success on a later day; else FEE_MISMATCH when
// the fee it gives back is more than a fen off the rate's; else MATCHED.
// Result.ExpectedFees sums the rate's fee of every line (given back on
// refunds) beside Result.Fees, the bill's. A matched
// refund made in the platform's console (Refund.Source "platform") is
// MATCHED and also listed in Result.Notices so that it stays visible.
//
// Severity is Category.Severity, except that a REFUND_MISMATCH where the
// platform paid money back without a matching local success (no request, a
// FAILED one, another order, booked twice, another amount) is critical.
//
// # Cross-day and suspense
//
// A bill for day D holds the bookings the platform completed on D. Near
// midnight the two sides can disagree on the day, and either side can be
// first:
//
//   - paydesk first (local booking on D, line on D+1): a local booking on D
//     without a line is CROSS_DAY when its time is in the last
//     CrossDayWindow before midnight (default 10 minutes), else
//     MISSING_PLATFORM (or REFUND_MISMATCH, or DUPLICATE_PAYMENT for an
//     ExtraTrades payment). The CROSS_DAY item goes to Result.Carry. On a
//     later day the line arrives, finds the record through LookupOrder or
//     LookupRefund, is judged in full, and settles the item (Result.Settled,
//     with the category the pair ended in — MATCHED normally).
//   - the platform first (line on D, local booking dated D+1 or later): the
//     line is CROSS_DAY (if nothing of higher precedence holds) and carried.
//     On the run of the day paydesk dates it, the local record (in Orders, or
//     found through the lookup) settles the item and the pair is judged in
//     full; that run then does not report the record missing.
//
// A suspense item waits for SuspenseDays later days (default 3): the run of
// the day SuspenseDays after it was found still settles it if its bill has
// the other side, and otherwise escalates it — paydesk-side payments to
// MISSING_PLATFORM, platform-side payments to MISSING_LOCAL, refunds to
// REFUND_MISMATCH (critical when the platform paid money back) — reported
// in that run's findings with the Day it was first found. Items waiting less
// long are carried on unchanged. Runs must go day by day: the suspense of a
// run is the Carry of the run for the day before (items found on the run's
// day or later are refused).
//
// A line whose order is not paid locally is UNPAID_LOCAL even when the
// platform booked it a second before midnight: bills are published the
// next morning, and a payment completed that long ago without a local PAID
// is exactly the lost or failed callback UNPAID_LOCAL exists to catch — a
// query fixes it at once, holding it would delay that a day.
//
// # Order of findings
//
// Findings, Carry, Settled and Notices are sorted by severity, category
// (Categories order), out_trade_no, out_request_no, trade_no, bill line and
// day (see Sort): the same records give the same report whatever order the
// store returned them in.
//
// # Fund flow
//
// A FundMatcher reconciles the account's movements of a day (Alipay 账务明细,
// WeChat 资金账单, as gateway.FundLine) against the day's bookings: the
// lines of the day's trade bill fed to Expect (their settled amount and
// their fee), and paydesk's payments and refunds of the day (FundInput);
// a booking both have is one item, with the bill's figures. Each movement
// is paired with the booking it belongs to — payments and fees by trade
// number (then order number), a fee given back with a refund of its trade,
// refunds by request number, platform refund id, then trade (and amount) —
// or stands alone: a withdrawal is WITHDRAWAL (listed and totalled), any
// other FUND_UNEXPECTED (长款 when money came in: money no order explains;
// a deduction or chargeback when it went out). A movement of a booking of
// another day is paired through LookupTrade/LookupOrder/LookupRefund.
//
// Each booking is then judged by the movements paired with it. A payment's
// money comes in and its fee goes out — as two movements (the fee as its
// own 收费 / 扣除交易手续费 line), as one movement netted of the fee, or, when
// the platform takes no fee that day, as the payment alone: FUND_MATCHED.
// A refund is the same with the signs turned (WeChat nets the fee it gives
// back into the refund's movement). No movement at all is FUND_MISSING
// (短款 for a payment; a warning, not critical, within CrossDayWindow of
// midnight, since the money may move the next day); a fee with no money
// is FUND_MISSING too; anything else is FUND_AMOUNT_MISMATCH. The fee a
// booking should cost is the trade bill's, else the contracted rate's
// (then a fen either way is rounding), else unknown (any fee movement is
// taken as charged). FundResult.ExpectedFees and ChargedFees put the day's
// fees side by side.
//
// # Money
//
// Every amount is gateway.Money (int64 fen). Fees is Σ line fees; Net is the
// settlement after fees, Σ line Net − Fees. Category amounts are signed
// like Net: payments positive, refunds negative.
package recon
