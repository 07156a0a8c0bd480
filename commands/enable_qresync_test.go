package commands_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/internal/testserver"
)

// TestEnableQResyncReturnsCondStore: enabling QRESYNC enables CONDSTORE
// too (RFC 7162 section 3.2.3), and a server may name both in its
// ENABLED. Enable returns what the server named of what was asked, a
// CONDSTORE named with an asked QRESYNC included (it was dropped as not
// asked since 238fdc6); the session knows CONDSTORE is on in both cases,
// also when the server names QRESYNC alone. An ENABLE of CONDSTORE
// answered "* ENABLED CONDSTORE QRESYNC" still leaves QRESYNC out
// (TestUnsolicitedEnabledLeavesNamesModifiedUTF7).
func TestEnableQResyncReturnsCondStore(t *testing.T) {
	cases := []struct {
		enabled string
		want    []string
	}{
		{enabled: "* ENABLED CONDSTORE QRESYNC", want: []string{"CONDSTORE", "QRESYNC"}},
		{enabled: "* ENABLED qresync condstore", want: []string{"QRESYNC", "CONDSTORE"}},
		{enabled: "* ENABLED QRESYNC", want: []string{"QRESYNC"}},
	}
	for _, tc := range cases {
		t.Run(tc.enabled, func(t *testing.T) {
			c, srv, ctx := zzClient(t, "ENABLE CONDSTORE QRESYNC", true)
			srv.extra = func(cmd string) []string {
				if strings.Contains(strings.ToUpper(cmd), " ENABLE ") {
					return []string{tc.enabled}
				}
				return nil
			}
			got, err := c.Enable(ctx, "QRESYNC")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Enable(QRESYNC) answered %q returned %q; want %q", tc.enabled, got, tc.want)
			}
			s := c.Session()
			if !s.Enabled("QRESYNC") || !s.Enabled("CONDSTORE") {
				t.Errorf("after %q: Enabled(QRESYNC) %v, Enabled(CONDSTORE) %v; want both true",
					tc.enabled, s.Enabled("QRESYNC"), s.Enabled("CONDSTORE"))
			}
		})
	}
}

// TestEnableQResyncDovecot: Dovecot's answer to ENABLE QRESYNC; Enable
// returns QRESYNC and whatever CONDSTORE Dovecot names with it, and the
// session has both on.
func TestEnableQResyncDovecot(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	got, err := c.Enable(ctx, "QRESYNC")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ENABLE QRESYNC: %q", got)
	if !slices.Contains(got, "QRESYNC") {
		t.Errorf("Enable(QRESYNC) returned %q; want QRESYNC in it", got)
	}
	for _, e := range got {
		if e != "QRESYNC" && e != "CONDSTORE" {
			t.Errorf("Enable(QRESYNC) returned %q, not asked for nor implied", e)
		}
	}
	if s := c.Session(); !s.Enabled("QRESYNC") || !s.Enabled("CONDSTORE") {
		t.Errorf("Enabled(QRESYNC) %v, Enabled(CONDSTORE) %v; want both true", s.Enabled("QRESYNC"), s.Enabled("CONDSTORE"))
	}
}
