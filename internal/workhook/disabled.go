//go:build !imapkit_workhook

package workhook

// Enabled reports whether counting is compiled in: false in a build
// without the tag imapkit_workhook, where Report does nothing.
const Enabled = false
