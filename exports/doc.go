// Package exports owns the Excel workbooks paydesk hands to finance staff:
// the reconciliation report of a trade run (Summary, Findings and every bill
// line with its match result, and a Funds sheet for the day's fund run), the
// report of a fund-flow run (Summary, Findings and every movement of its fund
// bill), and listings of orders, notifications and the audit log. It writes workbooks with github.com/xuri/excelize/v2 and owns
// their conventions: money as spreadsheet numbers with a ¥ format computed
// from integer fen, times as real dates in the business zone, a frozen and
// filtered header, column widths that fit the content (CJK counted double),
// rows coloured by severity, large sheets streamed and split past Excel's
// row limit, buyer identifiers masked and no secret ever written.
//
// It reads nothing by itself: callers (ops) pass the run, its findings, a
// way to re-open the bill file, and page sources over the store, so the
// package does no SQL and is tested on inputs it is handed. WriteFile
// writes a workbook so that a failed export leaves no half-written file.
package exports
