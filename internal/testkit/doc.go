// Package testkit holds helpers shared by tests: the fixed test-only sandbox
// keys in testdata/sandbox and the repository paths tests read from.
package testkit
