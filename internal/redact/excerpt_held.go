package redact

// RedactExcerptHeld is RedactExcerpt for got, the excerpt of a syntax
// error, when the server's bytes around it are at hand: b, the bytes as
// received of the line (or a window of it) that got's bytes were cut
// from, at b[at:]; gaps, the places in b the caller found that part a
// credential's pieces (RedactEdgesGaps': each literal's header with its
// line end, each body's end as a gap of no width, each other line end,
// and b's ends where it was cut from more), in order. Besides what
// RedactExcerpt covers, the excerpt's bytes that RedactEdgesGaps(b, 0, 0,
// false, gaps) covers are replaced: redacted alone, the excerpt could
// not join a piece of a credential inside it to the parts either side
// of it, outside it (`"{3}\r\nXXXQz {2}\r\n"`, the password's "Qz" between
// two junk bodies, its first part before the excerpt and its rest after
// it), which the trace's line redacts. The excerpt is cut from the line
// as redacted: the cover is worked out over the whole of b, once, and
// read at the excerpt's bytes. When got's bytes are not b[at:] (got is
// no quoted excerpt, or was cut from other bytes), it is RedactExcerpt.
// The cost is RedactEdgesGaps' over b; nothing is allocated but the
// excerpt returned when it differs from got (and the cover and table the
// Set keeps, as for a line).
func (x *Set) RedactExcerptHeld(got string, b []byte, gaps []Gap, at int) string {
	if !x.Any() {
		return got
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.redactExcerptLocked(got, func(raw string) uint64 {
		return x.heldCoverLocked(raw, b, gaps, at)
	})
}

// heldCoverLocked returns which of raw's bytes, b[at:at+len(raw)], the
// cover of b with its gaps marks (RedactExcerptHeld; under mu): bit i for
// raw[i]. None when raw is not there.
func (x *Set) heldCoverLocked(raw string, b []byte, gaps []Gap, at int) uint64 {
	if len(raw) == 0 || len(raw) > 64 || at < 0 || at > len(b)-len(raw) || string(b[at:at+len(raw)]) != raw {
		return 0
	}
	if !x.coverLocked(b, false) {
		x.clearCover(len(b), false)
	}
	defer x.letGoCover()
	if len(gaps) > 0 {
		x.markGapsLocked(b, gaps)
		x.letGoTable()
		x.letGoWin()
	}
	var c uint64
	for i := range len(raw) {
		if bit(x.covered, at+i) {
			c |= 1 << i
		}
	}
	return c
}
