// Package testkit holds small helpers shared by tests of several packages:
// the fixed test-only sandbox keys in testdata/sandbox and the repository
// paths tests read from; a sandbox on loopback and a merchant endpoint for a
// platform client; a settable clock; a small terminal screen for reading what
// a console draws; a dump of an SQLite store (to prove a refusal changed
// nothing); the text of an .xlsx workbook; and a transport that swaps a
// WeChat Pay bill download. A whole paydesk for a test is internal/testenv's.
package testkit
