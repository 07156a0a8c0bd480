package commands_test

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
)

// TestReview43PMoveFallbackSplitBadCopyUID: Move on a server without
// MOVE (the UIDPLUS fallback), the set in two parts (SetMaxSetLength),
// the first part's COPYUID valid, the second's one the codec drops
// ([COPYUID 0 4 20], "*" in a set) or none at all ([UIDNOTSTICKY], RFC
// 4315 section 3). Both UID COPYs succeeded: every message was copied.
// The fallback removed only what the joined COPYUID names, so message 4
// was copied and left in the source, and Move returned nil. Every UID of
// a part that answered OK without a usable COPYUID must be removed.
func TestReview43PMoveFallbackSplitBadCopyUID(t *testing.T) {
	for _, bad := range []string{"[COPYUID 0 4 20]", "[COPYUID 7 4:* 20]", "[COPYUID 7 4 20:*]", "[UIDNOTSTICKY]"} {
		var mu sync.Mutex
		var stores []string
		ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1 UIDPLUS LITERAL+", on: handlers{
			"UID SEARCH": func(hc *hostile.Conn, cmd *hostile.Command) error {
				return hc.Lines("* SEARCH 1 2 4", cmd.Tag+" OK done")
			},
			"UID COPY":  copyUIDParts(bad),
			"UID STORE": record(&mu, &stores, func(args string) string { return args }),
		}})
		c.SetMaxSetLength(3) // two parts: 1:2 and 4
		res, err := c.Move(ctx, commands.UIDs(1, 2, 4), "Dst")
		mu.Lock()
		st := strings.Join(stores, " | ")
		mu.Unlock()
		removed4 := false
		for _, s := range stores {
			f := strings.Fields(s)
			if len(f) > 0 && (f[0] == "1:2,4" || f[0] == "1,2,4" || f[0] == "4" || strings.Contains(f[0], ",4") || f[0] == "1:4") {
				removed4 = true
			}
		}
		if err == nil && !removed4 {
			t.Errorf("%s: Move returned %+v, nil; the STOREs sent: %q: message 4 was copied (its UID COPY said OK) but not removed, and Move reports success", bad, res, st)
		}
		if err == nil {
			if _, ok := res.DstOf(4); ok {
				t.Errorf("%s: the result %+v maps UID 4, for which the server sent no usable COPYUID", bad, res)
			}
			if d, ok := res.DstOf(2); !ok || d != 11 {
				t.Errorf("%s: DstOf(2) = %d, %v; want 11 (the first part's COPYUID)", bad, d, ok)
			}
		}
	}
}

// TestReview43PMoveFallbackSplitPartsKept: the same fallback in three
// parts, the third refused (a *SplitError): the second part, copied
// without a COPYUID, is removed with the first; the third is not. A part
// whose COPYUID names only some of its UIDs (the server copied the
// others not, expunged meanwhile) has only those removed.
func TestReview43PMoveFallbackSplitPartsKept(t *testing.T) {
	var mu sync.Mutex
	var stores, expunges []string
	first := func(args string) string { return strings.Fields(args)[0] }
	ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1 UIDPLUS LITERAL+", on: handlers{
		"UID SEARCH": func(hc *hostile.Conn, cmd *hostile.Command) error {
			return hc.Lines("* SEARCH 1 2 4 6 8 9 11", cmd.Tag+" OK done")
		},
		"UID COPY": func(hc *hostile.Conn, cmd *hostile.Command) error {
			switch {
			case strings.HasPrefix(cmd.Args, "1:2,4 "):
				// 2 was expunged: only 1 and 4 copied.
				return hc.Reply(cmd.Tag, "OK [COPYUID 7 1,4 10:11] done")
			case strings.HasPrefix(cmd.Args, "6,8:9 "):
				return hc.Reply(cmd.Tag, "OK [UIDNOTSTICKY] done")
			}
			return hc.Reply(cmd.Tag, "NO [OVERQUOTA] full")
		},
		"UID STORE":   record(&mu, &stores, first),
		"UID EXPUNGE": record(&mu, &expunges, func(args string) string { return args }),
	}})
	c.SetMaxSetLength(5) // parts 1:2,4 and 6,8:9 and 11
	res, err := c.Move(ctx, commands.UIDs(1, 2, 4, 6, 8, 9, 11), "Dst")
	var split *commands.SplitError
	if !errors.As(err, &split) {
		t.Fatalf("Move: %+v, %v; want a *SplitError (the third part refused)", res, err)
	}
	mu.Lock()
	defer mu.Unlock()
	// The STORE and UID EXPUNGE are split too (the same limit).
	st, ex := strings.Join(stores, ","), strings.Join(expunges, ",")
	if want := "1,4,6,8:9"; st != want || ex != want {
		t.Errorf("STOREs %q, UID EXPUNGEs %q; want %q for both: 1 and 4 (the first part's COPYUID, 2 not copied) and the second part's 6,8:9 (OK without COPYUID), not 11 (refused)", st, ex, want)
	}
	if _, ok := res.DstOf(8); ok {
		t.Errorf("the result %+v maps UID 8, which had no COPYUID", res)
	}
}
