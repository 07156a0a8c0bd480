// The credentials a client sent (secretSet), kept in every form in which
// a server may echo them, so that the trace redacts them from the
// server's lines.

package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"slices"
	"sync"
)

// secretSet holds the credentials seen on a connection.
type secretSet struct {
	mu     sync.Mutex
	l      [][]byte   // the forms of the credentials in groups, longest first
	groups [][][]byte // the forms of each credential recorded, oldest first
}

// maxSecretGroups is how many credentials a connection's secretSet keeps,
// the newest: a client that sent LOGIN after LOGIN (a wrong or rotating
// password, a brute-forcer) made it grow by four copies of each, never
// trimmed and all compared with every server line (+2.9 MB and seconds of
// CPU after 12,000). As session's secrets are (16).
const maxSecretGroups = 16

// minSecret is the shortest credential redacted from the server's lines:
// a shorter one would blot out common words.
const minSecret = 3

// add records b as a credential, and when b is base64 (a SASL line),
// what it decodes to and what follows its last NUL (PLAIN's password).
func (ss *secretSet) add(b []byte) {
	if len(b) < minSecret {
		return
	}
	ss.record(b)
	if dec, err := base64.StdEncoding.DecodeString(string(b)); err == nil && len(dec) >= minSecret {
		ss.record(dec)
		if i := bytes.LastIndexByte(dec, 0); i >= 0 {
			ss.add(dec[i+1:])
		}
	}
}

// record keeps every form in which the credential b may show in a
// printed line: b itself, b inside a quoted string ('\' and '"' escaped,
// as a server echoes a quoted argument as sent), and both as the printer
// shows them (control characters and bytes that are not UTF-8 as \xNN).
// The longest forms come first, so that none is left half redacted.
func (ss *secretSet) record(b []byte) {
	q := quotedForm(b)
	ss.mu.Lock()
	defer ss.mu.Unlock()
	var g [][]byte
	for _, f := range [][]byte{b, q, printedForm(b), printedForm(q)} {
		if !slices.ContainsFunc(g, func(x []byte) bool { return bytes.Equal(x, f) }) {
			g = append(g, bytes.Clone(f))
		}
	}
	// The same credential again moves to the newest place.
	ss.groups = slices.DeleteFunc(ss.groups, func(x [][]byte) bool { return bytes.Equal(x[0], g[0]) })
	if len(ss.groups) >= maxSecretGroups {
		ss.groups = slices.Delete(ss.groups, 0, len(ss.groups)-maxSecretGroups+1)
	}
	ss.groups = append(ss.groups, g)
	ss.l = ss.l[:0]
	for _, x := range ss.groups {
		for _, f := range x {
			if !slices.ContainsFunc(ss.l, func(y []byte) bool { return bytes.Equal(y, f) }) {
				ss.l = append(ss.l, f)
			}
		}
	}
	slices.SortStableFunc(ss.l, func(x, y []byte) int { return len(y) - len(x) })
}

// quotedForm is b as the inside of a quoted string: '\' and '"' escaped.
func quotedForm(b []byte) []byte {
	var out []byte
	for _, c := range b {
		if c == '\\' || c == '"' {
			out = append(out, '\\')
		}
		out = append(out, c)
	}
	return out
}

// printedForm is b as printer.add shows it.
func printedForm(b []byte) []byte {
	var p printer
	p.add(b)
	return p.buf
}

// longest returns the length of the longest form of a credential recorded.
func (ss *secretSet) longest() int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.l) == 0 {
		return 0
	}
	return len(ss.l[0])
}

// cutPartial returns where to cut b, a printed line whose content was cut
// short at its end, so that no credential shows in part: before the
// longest suffix of b (from from on) that is the start of a recorded form
// (a credential that went on past the cut), then before any whole form
// that the cut would split. redact then finds every form left whole.
func (ss *secretSet) cutPartial(b []byte, from int) int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	t := len(b)
	if len(ss.l) == 0 {
		return t
	}
	for i := max(from, len(b)-len(ss.l[0])+1); i < len(b); i++ {
		if slices.ContainsFunc(ss.l, func(f []byte) bool { return len(f) > len(b)-i && bytes.HasPrefix(f, b[i:]) }) {
			t = i
			break
		}
	}
	for moved := true; moved; {
		moved = false
		for _, f := range ss.l {
			for s := max(from, t-len(f)+1); s < t; s++ {
				if bytes.HasPrefix(b[s:], f) {
					t, moved = s, true
					break
				}
			}
		}
	}
	return t
}

// redact replaces every recorded credential in b by ***: it marks every
// byte that any form of a credential covers (overlapping ones too: two
// credentials echoed as "abcdefghijklm", the end of one the start of the
// other), then replaces each run of marked bytes by one ***. (Replacing
// the forms one after the other left "***ijklm".)
func (ss *secretSet) redact(b []byte) []byte {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	var mark []bool
	for _, sec := range ss.l {
		for i := 0; i+len(sec) <= len(b); i++ {
			k := bytes.Index(b[i:], sec)
			if k < 0 {
				break
			}
			i += k
			if mark == nil {
				mark = make([]bool, len(b))
			}
			for j := i; j < i+len(sec); j++ {
				mark[j] = true
			}
		}
	}
	if mark == nil {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if !mark[i] {
			out = append(out, b[i])
			continue
		}
		out = append(out, "***"...)
		for i+1 < len(b) && mark[i+1] {
			i++
		}
	}
	return out
}

// captureWriter passes writes on to w and keeps the first max bytes: a
// secret literal's body, for secretSet. keep is called with them once
// (record): as soon as they reach max, before the write that fills them
// goes on to w, and otherwise when the body ends or fails. Kept only
// after the whole body was relayed, a body the writer sent on in parts
// (one over its 32 KiB) was echoed by the server, and printed, before it
// was a credential (TestProxyOwedLineBodyEchoedMidLiteralRedacted).
type captureWriter struct {
	w    *bufio.Writer
	buf  []byte
	max  int
	keep func([]byte)
	kept bool
}

func (c *captureWriter) Write(b []byte) (int, error) {
	if n := min(len(b), c.max-len(c.buf)); n > 0 {
		c.buf = append(c.buf, b[:n]...)
		if len(c.buf) == c.max {
			c.record()
		}
	}
	return c.w.Write(b)
}

func (c *captureWriter) Flush() error { return c.w.Flush() }

// record keeps what was captured, once.
func (c *captureWriter) record() {
	if !c.kept {
		c.kept = true
		c.keep(c.buf)
	}
}
