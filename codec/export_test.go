package codec

// AuditClones makes every Clone report, through f, the arenas it did not
// use up (a count that was too large), by name; it returns a function
// that turns the audit off. Tests only: it is not safe for concurrent use.
func AuditClones(f func(leftover []string)) (stop func()) {
	cloneAudit = func(c cloner) {
		var left []string
		for _, a := range []struct {
			name string
			n    int
		}{
			{"bytes", len(c.buf)}, {"strs", len(c.strs)}, {"addrs", len(c.addrs)},
			{"params", len(c.params)}, {"bodies", len(c.bodies)}, {"kids", len(c.kids)},
			{"envs", len(c.envs)}, {"exts", len(c.exts)}, {"nums", len(c.nums)},
			{"ranges", len(c.ranges)},
		} {
			if a.n != 0 {
				left = append(left, a.name)
			}
		}
		f(left)
	}
	return func() { cloneAudit = nil }
}
