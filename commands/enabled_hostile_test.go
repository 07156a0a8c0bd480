package commands_test

import (
	"strings"
	"testing"
)

// TestUnsolicitedEnabledLeavesNamesModifiedUTF7: RFC 5161 section 3.2
// lets a server send ENABLED only in answer to ENABLE, naming what that
// ENABLE asked for. A server that answers a NOOP with "* ENABLED
// UTF8=ACCEPT" (or an ENABLE of CONDSTORE with "* ENABLED UTF8=ACCEPT
// QRESYNC", or an ENABLE it refuses with BAD) has enabled nothing the
// client asked for: the client must keep sending mailbox names in
// modified UTF-7 (the server, never asked, reads them so) and must not
// believe QRESYNC is on (a SELECT (QRESYNC ...) would get BAD). The
// session takes every ENABLED response on the server's word alone
// (session/read.go, case *codec.Enabled in route).
func TestUnsolicitedEnabledLeavesNamesModifiedUTF7(t *testing.T) {
	cases := []struct {
		name   string
		run    string   // the command that gets the ENABLED
		enable []string // for run == "ENABLE"
		extra  []string
	}{
		{name: "noop", run: "NOOP", extra: []string{"* ENABLED UTF8=ACCEPT QRESYNC"}},
		{name: "other", run: "ENABLE", enable: []string{"CONDSTORE"}, extra: []string{"* ENABLED UTF8=ACCEPT QRESYNC"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, srv, ctx := zzClient(t, "ENABLE CONDSTORE QRESYNC UTF8=ACCEPT", true)
			srv.extra = func(cmd string) []string {
				if strings.Contains(strings.ToUpper(cmd), " "+tc.run) {
					return tc.extra
				}
				return nil
			}
			var err error
			if tc.run == "ENABLE" {
				_, err = c.Enable(ctx, tc.enable...)
			} else {
				err = c.Noop(ctx)
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Session().UTF8Enabled() || c.Session().Enabled("QRESYNC") {
				t.Errorf("after %s answered %q: UTF8Enabled %v, Enabled(QRESYNC) %v; want both false (never asked for)",
					tc.run, tc.extra, c.Session().UTF8Enabled(), c.Session().Enabled("QRESYNC"))
			}
			n := len(srv.sent())
			if err := c.Create(ctx, "Entwürfe", nil); err != nil {
				t.Fatal(err)
			}
			if got := srv.since(n); len(got) != 1 || !strings.Contains(got[0], "Entw&APw-rfe") {
				t.Errorf("CREATE sent %q; want the name in modified UTF-7 (Entw&APw-rfe)", got)
			}
		})
	}
}
