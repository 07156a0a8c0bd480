package commands_test

import (
	"slices"
	"strings"
	"testing"
)

// TestEnableQResyncHostileAnswers: ENABLE QRESYNC answered by a server
// that names CONDSTORE alone (QRESYNC refused), names capabilities not
// asked, or sends ENABLED twice: Enable returns each asked (or implied)
// capability once, what was not asked never, and the session's Enabled
// agrees with what Enable returned.
func TestEnableQResyncHostileAnswers(t *testing.T) {
	cases := []struct {
		enabled       []string
		want          []string
		qresync, cond bool
	}{
		{enabled: []string{"* ENABLED CONDSTORE"}, want: []string{"CONDSTORE"}, cond: true},
		{enabled: []string{"* ENABLED UTF8=ACCEPT X-FOO CONDSTORE"}, want: []string{"CONDSTORE"}, cond: true},
		{enabled: []string{"* ENABLED QRESYNC", "* ENABLED QRESYNC CONDSTORE qresync"}, want: []string{"QRESYNC", "CONDSTORE"}, qresync: true, cond: true},
		{enabled: []string{"* ENABLED UTF8=ACCEPT IMAP4rev2"}, want: nil},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.enabled, "|"), func(t *testing.T) {
			c, srv, ctx := zzClient(t, "ENABLE CONDSTORE QRESYNC", true)
			srv.extra = func(cmd string) []string {
				if strings.Contains(strings.ToUpper(cmd), " ENABLE ") {
					return tc.enabled
				}
				return nil
			}
			got, err := c.Enable(ctx, "QRESYNC")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Enable(QRESYNC) returned %q; want %q", got, tc.want)
			}
			s := c.Session()
			if s.Enabled("QRESYNC") != tc.qresync || s.Enabled("CONDSTORE") != tc.cond || s.UTF8Enabled() {
				t.Errorf("Enabled: QRESYNC %v CONDSTORE %v UTF8 %v; want %v %v false",
					s.Enabled("QRESYNC"), s.Enabled("CONDSTORE"), s.UTF8Enabled(), tc.qresync, tc.cond)
			}
		})
	}
}

// TestEnableIMAP4rev2AnswerAgrees: the session takes IMAP4rev2 as asking
// for UTF8=ACCEPT too (session.enabledBit: IMAP4REV2 maps to
// enabledIMAP4rev2|enabledUTF8), so a server that answers ENABLE
// IMAP4rev2 with "* ENABLED UTF8=ACCEPT" switches the session's mailbox
// names to UTF-8, while Enable, which counts only what was asked or what
// QRESYNC implies (enableAsked), returns nothing: the caller is told
// nothing was enabled and the names it sends change encoding. The same
// disagreement 9b1c96b removed for QRESYNC and CONDSTORE.
func TestEnableIMAP4rev2AnswerAgrees(t *testing.T) {
	c, srv, ctx := zzClient(t, "ENABLE IMAP4rev2 UTF8=ACCEPT", true)
	srv.extra = func(cmd string) []string {
		if strings.Contains(strings.ToUpper(cmd), " ENABLE ") {
			return []string{"* ENABLED UTF8=ACCEPT"}
		}
		return nil
	}
	got, err := c.Enable(ctx, "IMAP4rev2")
	if err != nil {
		t.Fatal(err)
	}
	if utf8 := c.Session().UTF8Enabled(); utf8 != slices.Contains(got, "UTF8=ACCEPT") {
		t.Errorf("Enable(IMAP4rev2) answered ENABLED UTF8=ACCEPT returned %q, but the session's UTF8Enabled is %v", got, utf8)
	}
}
