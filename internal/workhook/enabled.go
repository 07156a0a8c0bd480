//go:build imapkit_workhook

package workhook

// Enabled reports whether counting is compiled in: true in a build with
// the tag imapkit_workhook (the tests' build: make test).
const Enabled = true
