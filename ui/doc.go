// Package ui owns the console: a Bubble Tea program with a tab for orders,
// reconciliation (trade and fund runs, their findings and what changed),
// callbacks, refunds and the audit log, the dialogs that ask before a
// refund, a replay or an export, and the theme they are drawn in. It calls
// ops and nothing below it (no SQL, no HTTP): every action is an ops
// operation, role-checked and audited there. Views keep only the rows on
// screen, loaded by keyset, and reload when the store's change stamp moves
// (ARCHITECTURE.md §8). NewProgram builds one program on any terminal, so
// the SSH console runs one per session with its own renderer (§10).
package ui
