package main

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/internal/testserver"
)

// cliCase is one run of the CLI: arguments (the URL and the connection
// flags are added), the exit code, what stdout and stderr must hold, and,
// for --json, the object stdout must decode to (compared as generic JSON:
// only the keys given are compared).
type cliCase struct {
	name     string
	args     []string
	stdin    string
	code     int
	stdout   []string // substrings, in order
	exact    string   // when set: stdout exactly
	stderr   string   // substring
	json     string   // when set: stdout's first line holds these keys with these values
	noStdout bool
}

// runCases runs the cases in order against url, with the connection flags
// cf after the arguments.
func runCases(t *testing.T, url string, cf []string, cases []cliCase) {
	t.Helper()
	for _, tc := range cases {
		args := append([]string{tc.args[0], url}, tc.args[1:]...)
		args = append(args, cf...)
		code, stdout, stderr := runCLI(t, tc.stdin, args...)
		name := tc.name
		if name == "" {
			name = strings.Join(tc.args, " ")
		}
		if code != tc.code {
			t.Errorf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", name, code, tc.code, stdout, stderr)
			continue
		}
		rest := stdout
		for _, want := range tc.stdout {
			i := strings.Index(rest, want)
			if i < 0 {
				t.Errorf("%s: stdout has no %q (in order):\n%s", name, want, stdout)
				break
			}
			rest = rest[i+len(want):]
		}
		if tc.exact != "" && stdout != tc.exact {
			t.Errorf("%s: stdout\n%q\nwant\n%q", name, stdout, tc.exact)
		}
		if tc.noStdout && stdout != "" {
			t.Errorf("%s: stdout %q; want none", name, stdout)
		}
		if !strings.Contains(stderr, tc.stderr) {
			t.Errorf("%s: stderr %q; want it to hold %q", name, stderr, tc.stderr)
		}
		if tc.code != 0 && tc.code != 2 && strings.Count(stderr, "\n") != 1 {
			t.Errorf("%s: stderr %q; want one line", name, stderr)
		}
		if tc.json != "" {
			checkJSON(t, name, stdout, tc.json)
		}
	}
}

// checkJSON checks that the first line of out is a JSON object holding
// want's keys with want's values.
func checkJSON(t *testing.T, name, out, want string) {
	t.Helper()
	line, _, _ := strings.Cut(out, "\n")
	var got, w map[string]any
	if err := json.Unmarshal([]byte(line), &got); err != nil {
		t.Errorf("%s: stdout is not a JSON object: %v\n%s", name, err, out)
		return
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: bad test JSON %s: %v", name, want, err)
	}
	for k, v := range w {
		if !reflect.DeepEqual(got[k], v) {
			t.Errorf("%s: JSON %q = %#v; want %#v\n%s", name, k, got[k], v, line)
		}
	}
}

// TestMailboxCommandsDovecot runs the mailbox, message and administrative
// commands against one Dovecot, in order: each case may build on the one
// before.
func TestMailboxCommandsDovecot(t *testing.T) {
	t.Parallel()
	srv, cf := dovecot(t, 6)
	_, tls := urls(srv)
	runCases(t, tls, cf, []cliCase{
		// select and examine
		{args: []string{"select", "INBOX"}, stdout: []string{"mailbox", "INBOX", "read-only", "false", "exists", "6", "uidvalidity", "uidnext", "7", "flags", `\Seen`, "permanent flags", `\*`}},
		{args: []string{"examine", "INBOX", "--json"}, json: `{"mailbox":"INBOX","read_only":true,"exists":6,"recent":0,"uidnext":7}`},
		{args: []string{"select", "INBOX", "--condstore", "--json"}, json: `{"read_only":false,"exists":6}`},
		{args: []string{"select", "NoSuchBox"}, code: 1, stderr: "imapkit select: "},
		{args: []string{"select"}, code: 2, stderr: "usage: imapkit select"},

		// create, rename, subscribe, lsub, unsubscribe, delete
		{args: []string{"create", "Projects/2024"}, exact: "created Projects/2024\n"},
		{args: []string{"create", "Projects/2024"}, code: 1, stderr: "imapkit create: "},
		{args: []string{"create", "Entwürfe", "--json"}, exact: `{"created":"Entwürfe"}` + "\n"},
		{args: []string{"rename", "Projects/2024", "Projects/2025"}, exact: "renamed Projects/2024 to Projects/2025\n"},
		{args: []string{"rename", "Projects/2024", "X", "--json"}, code: 1},
		{args: []string{"subscribe", "Projects/2025"}, exact: "subscribed Projects/2025\n"},
		{args: []string{"subscribe", "Entwürfe", "--json"}, exact: `{"subscribed":"Entwürfe"}` + "\n"},
		{args: []string{"lsub"}, stdout: []string{"MAILBOX", "ATTRIBUTES"}},
		{args: []string{"lsub", "Projects/*"}, exact: "MAILBOX        ATTRIBUTES\nProjects/2025  \n"},
		{args: []string{"lsub", "Entw*", "--json"}, json: `{"name":"Entwürfe","delimiter":"/","attributes":[]}`},
		{args: []string{"unsubscribe", "Projects/2025"}, exact: "unsubscribed Projects/2025\n"},
		{args: []string{"lsub", "Projects/*", "--json"}, noStdout: true},
		{args: []string{"delete", "Projects/2025", "--json"}, exact: `{"deleted":"Projects/2025"}` + "\n"},
		{args: []string{"delete", "Projects/2025"}, code: 1},
		{args: []string{"list", "Entw*"}, stdout: []string{"Entwürfe"}},

		// namespace
		{args: []string{"namespace"}, stdout: []string{"NAMESPACE", "PREFIX", "DELIMITER", "personal", `""`, "/", "other", `"shared/"`, "/"}},
		{args: []string{"namespace", "--json"}, json: `{"personal":[{"prefix":"","delimiter":"/"}],"other":[{"prefix":"shared/","delimiter":"/"}],"shared":[]}`},

		// store
		{args: []string{"store", "INBOX", "1:2", "+FLAGS", `\Flagged`, `\Seen`}, stdout: []string{"SEQ", "UID", "FLAGS", "1", "1", `\Flagged`, "2", "2", `\Flagged`}},
		{args: []string{"search", "INBOX", "FLAGGED"}, exact: "1\n2\n"},
		{args: []string{"store", "INBOX", "2", "-FLAGS", `\Flagged`, "--json"}, json: `{"seq":2,"uid":2,"flags":["\\Seen"]}`},
		{args: []string{"store", "INBOX", "3", "+FLAGS", "--seq", "$Important", "--json"}, json: `{"seq":3,"flags":["$Important"]}`},
		{args: []string{"store", "INBOX", "1", "FLAGS"}, stdout: []string{"1", "1", "\n"}},
		{args: []string{"search", "INBOX", "FLAGGED"}, noStdout: true},
		{args: []string{"store", "INBOX", "1", "+FLAGS", "--silent"}, code: 2, stderr: "need at least one flag"},
		{args: []string{"store", "INBOX", "1", "-FLAGS"}, code: 2, stderr: "usage: imapkit store"},
		{args: []string{"store", "INBOX", "x", "+FLAGS", `\Seen`}, code: 2, stderr: "bad message set"},
		{args: []string{"store", "INBOX", "1", "=FLAGS", `\Seen`}, code: 2, stderr: "is not +FLAGS"},
		{args: []string{"store", "NoSuchBox", "1", "+FLAGS", `\Seen`}, code: 1},

		// cp, mv, expunge
		{args: []string{"cp", "INBOX", "1:3", "Archive"}, stdout: []string{"copied INBOX UID 1:3 to Archive UID 1:3 (UIDVALIDITY "}},
		{args: []string{"status", "Archive", "--json"}, json: `{"messages":3}`},
		{args: []string{"mv", "Archive", "2", "Trash", "--json"}, json: `{"mailbox":"Archive","to":"Trash","set":"2","src":"2","dst":"1"}`},
		{args: []string{"mv", "Archive", "1", "--seq", "Junk"}, stdout: []string{"moved Archive UID 1 to Junk UID 1"}},
		{args: []string{"status", "Archive", "--json"}, json: `{"messages":1}`},
		{args: []string{"cp", "INBOX", "1", "NoSuchBox"}, code: 1},
		{args: []string{"cp", "INBOX", "1:*:3", "Junk"}, code: 2, stderr: "bad message set"},
		{args: []string{"store", "INBOX", "4:6", "+FLAGS", `\Deleted`}, stdout: []string{`\Deleted`}},
		{args: []string{"expunge", "INBOX", "5", "--json"}, json: `{"mailbox":"INBOX","expunged":1,"seqnums":[5]}`},
		{args: []string{"expunge", "INBOX"}, exact: "expunged 2 messages from INBOX\n"},
		{args: []string{"status", "INBOX", "--json"}, json: `{"messages":3}`},
		{args: []string{"expunge", "INBOX", "--json"}, json: `{"expunged":0,"seqnums":[]}`},

		// quota: alice has no limit (GETQUOTA answers OK with no QUOTA);
		// tiny's are below.
		{args: []string{"quotaroot", "INBOX"}, exact: "quota roots of INBOX: \n"},
		{args: []string{"quota", "User quota", "--json"}, json: `{"root":"User quota","resources":[]}`},
		{args: []string{"setquota", "User quota", "STORAGE=10"}, code: 1},
		{args: []string{"setquota", "User quota", "STORAGE"}, code: 2, stderr: "want RESOURCE=NUMBER"},

		// acl
		{args: []string{"acl", "myrights", "INBOX"}, stdout: []string{"l", "r", "s"}},
		{args: []string{"acl", "set", "Archive", "bob", "lr"}, exact: "set bob's rights on Archive: lr\n"},
		{args: []string{"acl", "get", "Archive"}, stdout: []string{"IDENTIFIER", "RIGHTS", "bob", "lr"}},
		{args: []string{"acl", "get", "Archive", "--json"}, json: `{"mailbox":"Archive"}`, stdout: []string{`{"identifier":"bob","rights":"lr"}`}},
		{args: []string{"acl", "listrights", "Archive", "bob", "--json"}, json: `{"mailbox":"Archive","identifier":"bob"}`, stdout: []string{`"optional":["`}},
		{args: []string{"acl", "delete", "Archive", "bob", "--json"}, json: `{"mailbox":"Archive","deleted":"bob"}`},
		{args: []string{"acl", "get", "Archive"}, stdout: []string{"IDENTIFIER"}},
		{args: []string{"acl", "get", "NoSuchBox"}, code: 1},
		{args: []string{"acl", "frob", "INBOX"}, code: 2, stderr: "unknown operation"},
		{args: []string{"acl", "set", "INBOX", "bob"}, code: 2, stderr: "wrong number of arguments"},

		// metadata
		{args: []string{"metadata", "set", "INBOX", "/private/comment", "my inbox", "/shared/comment", "ours"}, stdout: []string{"metadata INBOX: set /private/comment to my inbox", "set /shared/comment to ours"}},
		{args: []string{"metadata", "get", "INBOX", "/private/comment", "/shared/comment"}, stdout: []string{"ENTRY", "VALUE", "/private/comment", "my inbox", "/shared/comment", "ours"}},
		{args: []string{"metadata", "get", "INBOX", "/private/comment", "--json"}, json: `{"mailbox":"INBOX","entries":[{"name":"/private/comment","value":"my inbox"}]}`},
		{args: []string{"metadata", "delete", "INBOX", "/private/comment", "--json"}, json: `{"mailbox":"INBOX","set":[{"name":"/private/comment","value":null}]}`},
		{args: []string{"metadata", "get", "INBOX", "/private/comment", "--json"}, json: `{"entries":[{"name":"/private/comment","value":null}]}`},
		{args: []string{"metadata", "set", "", "/private/vendor/imapkit/x", "server-wide"}, stdout: []string{"server-wide"}},
		{args: []string{"metadata", "get", "", "/private/vendor/imapkit/x", "--json"}, json: `{"mailbox":"","entries":[{"name":"/private/vendor/imapkit/x","value":"server-wide"}]}`},
		{args: []string{"metadata", "get", "", "/private/vendor", "--depth", "infinity", "--json"}, stdout: []string{`"/private/vendor/imapkit/x"`}},
		{args: []string{"metadata", "set", "INBOX", "/private/comment", "x", "/private/y"}, code: 2, stderr: "pairs expected"},
		{args: []string{"metadata", "set", "INBOX", "/private/comment"}, code: 2, stderr: "wrong number of arguments"},
		{args: []string{"metadata", "get", "INBOX", "/bogus"}, code: 1},

		// annotation: Dovecot has no ANNOTATEMORE (see the Cyrus test).
		{args: []string{"annotation", "get", "INBOX", "/comment"}, code: 1},
		{args: []string{"annotation", "set", "INBOX", "/comment", "value.priv"}, code: 2, stderr: "wrong number of arguments"},

		// id
		{args: []string{"id"}, stdout: []string{"name", "Dovecot"}},
		{args: []string{"id", "name=test", "version=1", "--json"}, json: `{"server":{"name":"Dovecot"}}`},
		{args: []string{"id", "novalue"}, code: 2, stderr: "want FIELD=VALUE"},
	})
	tiny := strings.Replace(tls, "alice@", testserver.TinyUser+"@", 1)
	runCases(t, tiny, cf, []cliCase{
		{args: []string{"quotaroot", "INBOX"}, exact: "quota roots of INBOX: User quota\nROOT        RESOURCE  USAGE  LIMIT\nUser quota  STORAGE   0      20\n"},
		{args: []string{"quotaroot", "INBOX", "--json"}, json: `{"mailbox":"INBOX","roots":["User quota"],"quotas":[{"root":"User quota","resources":[{"name":"STORAGE","usage":0,"limit":20}]}]}`},
		{args: []string{"quota", "User quota", "--json"}, json: `{"root":"User quota","resources":[{"name":"STORAGE","usage":0,"limit":20}]}`},
		{args: []string{"quota", "No such root"}, code: 1},
	})
}

// TestAdminCommandsCyrus runs what Dovecot lacks here: SETQUOTA by an
// administrator, ANNOTATEMORE, and ACLs of Cyrus's own kind.
func TestAdminCommandsCyrus(t *testing.T) {
	t.Parallel()
	cy := testserver.StartCyrusT(t)
	setEnv(t, "IMAPKIT_URL", "")
	_, port, _ := strings.Cut(cy.Addr, ":")
	admin := "imap://" + testserver.CyrusAdmin + "@127.0.0.1:" + port
	alice := "imap://alice@127.0.0.1:" + port
	cf := []string{"--timeout", "20s"}
	setEnv(t, "IMAPKIT_PASSWORD", testserver.CyrusAdminPassword)
	runCases(t, admin, cf, []cliCase{
		{args: []string{"create", "user/alice"}, exact: "created user/alice\n"},
		{args: []string{"setquota", "user/alice", "STORAGE=1000"}, stdout: []string{"ROOT", "user/alice", "STORAGE", "1000"}},
		{args: []string{"quota", "user/alice", "--json"}, json: `{"root":"user/alice","resources":[{"name":"STORAGE","usage":0,"limit":1000}]}`},
		{args: []string{"setquota", "user/alice", "STORAGE=2000", "--json"}, json: `{"root":"user/alice"}`, stdout: []string{`"limit":2000`}},
		{args: []string{"acl", "get", "user/alice"}, stdout: []string{"IDENTIFIER", "alice", "lrswipkxtecda"}},
		{args: []string{"acl", "listrights", "user/alice", "anyone"}, stdout: []string{"required", "optional"}},
	})
	setEnv(t, "IMAPKIT_PASSWORD", testserver.Password)
	runCases(t, alice, cf, []cliCase{
		{args: []string{"quotaroot", "INBOX", "--json"}, json: `{"mailbox":"INBOX","roots":["INBOX"],"quotas":[{"root":"INBOX","resources":[{"name":"STORAGE","usage":0,"limit":2000}]}]}`},
		{args: []string{"annotation", "set", "INBOX", "/comment", "value.priv", "my inbox"}, exact: "annotation INBOX: set /comment value.priv to my inbox\n"},
		{args: []string{"annotation", "get", "INBOX", "/comment", "value.priv"}, stdout: []string{"MAILBOX", "ENTRY", "ATTRIBUTE", "VALUE", "INBOX", "/comment", "value.priv", "my inbox"}},
		{args: []string{"annotation", "get", "INBOX", "/comment", "--json"}, json: `{"mailbox":"INBOX","entry":"/comment"}`, stdout: []string{`{"name":"value.priv","value":"my inbox"}`}},
		{args: []string{"acl", "myrights", "INBOX", "--json"}, json: `{"mailbox":"INBOX","rights":"lrswipkxtecdan"}`},
		{args: []string{"setquota", "INBOX", "STORAGE=5"}, code: 1},
	})
}
