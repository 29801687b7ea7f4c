// Package gateway owns the boundary to the payment platforms: the Platform
// interface every platform client implements, and the normalized types that
// cross it (Channel, Money, Trade, Notification, RefundResult, BillLine).
//
// Nothing above this package knows a platform's wire format; nothing in it
// knows about the store, reconciliation or the console.
package gateway
