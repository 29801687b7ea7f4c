//go:build !heavy

package cli

// demoCopyOrdersPerDay sizes the demo workspace the copy test builds (per
// channel and day; the demo's own default is 300, used with -tags heavy).
const demoCopyOrdersPerDay = 60
