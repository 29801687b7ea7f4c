// Package gateway owns the boundary to the payment platforms: the Platform
// interface every platform client implements, and the normalized types that
// cross it (Channel, Money, Trade, Notification, RefundResult, BillLine,
// FundLine); the rules every screen and export calls here (buyer-id
// masking, channel names, field limits, fee rates); and the registry of
// bill parsers: each platform package registers its trade and fund parsers
// by channel and kind (RegisterBillFormat), so that whoever reads a bill
// finds its parser without importing the platform packages, and every
// parser holds a bill to the same BillOptions (merchant, day, limits).
//
// Nothing above this package knows a platform's wire format; nothing in it
// knows about the store, reconciliation or the console.
package gateway
