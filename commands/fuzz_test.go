package commands_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/fuzzseed"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// FuzzClient runs every family of the typed client against a server that
// answers with fuzzed bytes: the hostile-server check of the layer that
// turns responses into Go values (results, iterators, trees, maps,
// copies). The input is a list of answers, split at each 0x1E byte; an
// answer may start with the name of the command it is for and a 0x1F byte
// ("UID FETCH\x1f* 1 FETCH ..."). The server (over transport.Pipe) greets
// with fcGreeting (every extension the client uses), then answers each
// command it reads with the first unused answer for its name, or else the
// first unused answer without one ("%T" replaced by the command's tag),
// followed by a tagged OK unless a line of the answer starts with the tag.
// IDLE gets "+", its answer and an EXISTS, then its OK after DONE. Naming
// the command keeps a mutation of one answer from shifting the others.
// Literals from the client are read as a server would: "+" for a
// synchronizing one. The server hangs up when the client has sent
// nothing for fcQuiet, so that an answer left unfinished (a literal
// announced and never sent, a missing tagged line) ends on EOF rather
// than on a timeout: the session runs with the library's defaults, none
// shortened.
//
// Each exec runs in a testing/synctest bubble (fcExec, under
// FuzzConnectAuthCompress's cnGuarded): fcQuiet and fcBound are on the
// bubble's clock, which moves only when every goroutine of the exec
// waits, so they cost no wall time. (Until stop 50 the quiet was 5 ms of
// the real clock while fuzzing, and most execs ended on it: an exec
// took about 5 ms, 150 to 200 execs/s.)
//
// The operations (fcOps) run one after the other, with the context every
// exec shares. Per exec it fails on a panic (in any goroutine: it kills
// the worker), on operations still running fcBound after the hang-up, on
// an error whose text holds a control byte or invalid UTF-8, on a
// goroutine of the library left after Close, and, on the real clock, on
// an exec still running after cnRealGuard (a wait the bubble's clock
// does not see, or a spin).
//
// Seeds: a well-formed answer to every operation (fcSeed, which
// TestFuzzClientControl checks succeeds whole), and each of fcTrouble
// (shapes that are known trouble for a family: deep THREAD nesting,
// ESEARCH with huge and reversed ranges, LIST with odd delimiters and
// names, STATUS and QUOTA with numbers past their limits, METADATA with
// NIL and repeated entries, FETCH with items twice and sections cut
// short, COPYUID and APPENDUID with mismatched sets, VANISHED of
// everything, ACL without rights) before them.
func FuzzClient(f *testing.F) {
	f.Add(fcScript(fcSeed...))
	for _, a := range fcTrouble {
		f.Add(fcScript(append([]fcAnswer{a}, fcSeed...)...))
	}
	f.Fuzz(func(t *testing.T, script []byte) {
		fcExec(t, bytes.Split(script, []byte{0x1e}), fcQuiet, -1, 1)
	})
}

// FuzzClientReadError is FuzzClient over a connection whose reads fail
// with a reset (fuzzseed.CutConn) after the greeting and cut more bytes:
// a server connection that breaks in the middle of an answer, which
// FuzzClient's hang-up (an EOF) never gives. Beyond FuzzClient's checks,
// at most one read may fail: the session never reads a connection again
// after a read failed.
func FuzzClientReadError(f *testing.F) {
	seed := fcScript(fcSeed...)
	for _, cut := range []uint16{0, 100, 1000, 3000} {
		f.Add(seed, cut)
	}
	for _, a := range fcTrouble {
		f.Add(fcScript(append([]fcAnswer{a}, fcSeed...)...), uint16(len(a.Text)/2))
	}
	f.Fuzz(func(t *testing.T, script []byte, cut uint16) {
		fcExec(t, bytes.Split(script, []byte{0x1e}), fcQuiet, int(cut), 1)
	})
}

// FuzzClientConcurrent is FuzzClient with the operations spread over
// three goroutines (operation i on goroutine i%3, each running its share
// in order), so that the hostile answers meet pipelined commands, the
// routing of responses between them, IDLE ending for the others, and
// LOGOUT ending the session under commands in flight. The checks are
// FuzzClient's (no operation need succeed).
func FuzzClientConcurrent(f *testing.F) {
	f.Add(fcScript(fcSeed...))
	for _, a := range fcTrouble {
		f.Add(fcScript(append([]fcAnswer{a}, fcSeed...)...))
	}
	f.Fuzz(func(t *testing.T, script []byte) {
		fcExec(t, bytes.Split(script, []byte{0x1e}), fcQuiet, -1, 3)
	})
}

// TestFuzzClientControl checks the harness: with the well-formed answers
// of fcSeed every operation succeeds, so that FuzzClient's execs reach
// every family (a harness that failed early would fuzz the first
// operation alone).
func TestFuzzClientControl(t *testing.T) {
	// The last answer is LOGOUT's: the client hangs up, never the
	// server, however slow the machine.
	errs := fcExec(t, bytes.Split(fcScript(fcSeed...), []byte{0x1e}), time.Minute, -1, 1)
	for i, err := range errs {
		if err != nil {
			t.Errorf("%s: %v", fcOps[i].name, err)
		}
	}
	// Cut after the greeting and 200 bytes (in the answers to the first
	// operations): every operation from the cut on fails with the reset
	// inside an *AbortError.
	errs = fcExec(t, bytes.Split(fcScript(fcSeed...), []byte{0x1e}), time.Minute, 200, 1)
	if len(errs) == 0 {
		return // the exec failed, and said why
	}
	if err := errs[len(errs)-1]; !errors.Is(err, fuzzseed.ErrReset) || !errors.Is(err, session.ErrAborted) {
		t.Errorf("%s after the cut: %v; want an abort with the read's error", fcOps[len(errs)-1].name, err)
	}
}

// fcScattered returns the odd numbers below 4,000 as a set of UIDs or
// of sequence numbers: too long for one command (DefaultMaxSetLength).
func fcScattered(uid bool) commands.Set {
	s := commands.Set{UID: uid}
	for i := uint32(1); i < 4000; i += 2 {
		s.Nums.AddNum(i)
	}
	return s
}

// fcAnswer is an answer of FuzzClient's server to the command Name.
type fcAnswer struct{ Name, Text string }

// fcScript makes a FuzzClient input of answers.
func fcScript(answers ...fcAnswer) []byte {
	var b []byte
	for i, a := range answers {
		if i > 0 {
			b = append(b, 0x1e)
		}
		b = append(append(append(b, a.Name...), 0x1f), a.Text...)
	}
	return b
}

const (
	fcGreeting = "* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+ ID ENABLE IDLE NAMESPACE UNSELECT UIDPLUS MOVE CONDSTORE QRESYNC " +
		"ESEARCH SEARCHRES SORT ESORT THREAD=REFERENCES LIST-EXTENDED LIST-STATUS SPECIAL-USE QUOTA ACL METADATA ANNOTATEMORE " +
		"BINARY OBJECTID STATUS=SIZE MULTIAPPEND CATENATE NOTIFY REPLACE] ready\r\n"
	// fcBound is how long operations may still run after the server hung
	// up. It must stay well under the 10 s after which Go's fuzzing
	// engine kills a worker whose exec runs on ("deadlocked!", the
	// harness's report lost: docs/fuzzing.md).
	fcBound = 4 * time.Second
)

// fcQuiet is how long, on the bubble's clock, the server waits for the
// client's next command before it hangs up: most execs end this way (an
// answer left unfinished). The bubble's clock moves only when the client
// waits for the server too, so the server never hangs up on a client
// that is merely slow, and the wait costs no wall time.
const fcQuiet = 500 * time.Millisecond

// fcOp is one operation of FuzzClient.
type fcOp struct {
	name string
	run  func(ctx context.Context, c *commands.Client) error
}

// fcOps are the operations, one per family (and per form: owned and
// borrowed FETCH, collected and iterated SEARCH), in the order of
// fcSeed's answers.
var fcOps = []fcOp{
	{"Capability", func(ctx context.Context, c *commands.Client) error { _, err := c.Capability(ctx); return err }},
	{"ID", func(ctx context.Context, c *commands.Client) error {
		_, err := c.ID(ctx, map[string]string{"name": "imapkit"})
		return err
	}},
	{"Enable", func(ctx context.Context, c *commands.Client) error {
		_, err := c.Enable(ctx, "CONDSTORE", "QRESYNC")
		return err
	}},
	{"Namespace", func(ctx context.Context, c *commands.Client) error { _, err := c.Namespace(ctx); return err }},
	{"List", func(ctx context.Context, c *commands.Client) error {
		_, err := c.List(ctx, "*", &commands.ListOptions{ReturnSpecialUse: true, ReturnStatus: codec.StatusMessages | codec.StatusUnseen})
		return err
	}},
	{"LSub", func(ctx context.Context, c *commands.Client) error { _, err := c.LSub(ctx, "", "*"); return err }},
	{"Status", func(ctx context.Context, c *commands.Client) error {
		_, err := c.Status(ctx, "Grüße", codec.StatusMessages|codec.StatusUIDNext|codec.StatusUIDValidity|codec.StatusUnseen|codec.StatusSize|codec.StatusHighestModSeq)
		return err
	}},
	{"GetQuotaRoot", func(ctx context.Context, c *commands.Client) error {
		_, _, err := c.GetQuotaRoot(ctx, "INBOX")
		return err
	}},
	{"GetACL", func(ctx context.Context, c *commands.Client) error { _, err := c.GetACL(ctx, "INBOX"); return err }},
	{"MyRights", func(ctx context.Context, c *commands.Client) error { _, err := c.MyRights(ctx, "INBOX"); return err }},
	{"ListRights", func(ctx context.Context, c *commands.Client) error {
		_, err := c.ListRights(ctx, "INBOX", "bob")
		return err
	}},
	{"GetMetadata", func(ctx context.Context, c *commands.Client) error {
		_, _, err := c.GetMetadata(ctx, "INBOX", []string{"/private/comment", "/shared"}, &commands.MetadataOptions{Depth: -1, MaxSize: 1024})
		return err
	}},
	{"GetAnnotation", func(ctx context.Context, c *commands.Client) error {
		_, err := c.GetAnnotation(ctx, "INBOX", "/comment", "value.priv")
		return err
	}},
	{"Select", func(ctx context.Context, c *commands.Client) error {
		_, err := c.Select(ctx, "INBOX", &commands.SelectOptions{QResync: &commands.QResync{UIDValidity: 7, ModSeq: 10, KnownUIDs: commands.UIDRange(1, 20).Nums}})
		return err
	}},
	{"Search", func(ctx context.Context, c *commands.Client) error {
		_, err := c.Search(ctx, &commands.Criteria{Flags: []string{`\Seen`}}, &commands.SearchOptions{UID: true, Return: &commands.SearchReturn{Min: true, Max: true, All: true, Count: true}})
		return err
	}},
	{"SearchIter", func(ctx context.Context, c *commands.Client) error {
		for _, err := range c.SearchIter(ctx, &commands.Criteria{Subject: []string{"x"}}, nil) {
			if err != nil {
				return err
			}
		}
		return nil
	}},
	{"Sort", func(ctx context.Context, c *commands.Client) error {
		_, err := c.Sort(ctx, []commands.SortKey{{Key: "DATE", Reverse: true}}, nil, &commands.SearchOptions{UID: true})
		return err
	}},
	{"ESort", func(ctx context.Context, c *commands.Client) error {
		_, err := c.ESort(ctx, []commands.SortKey{{Key: "SIZE"}}, nil, &commands.SearchOptions{Return: &commands.SearchReturn{Min: true, All: true, Count: true}})
		return err
	}},
	{"Thread", func(ctx context.Context, c *commands.Client) error {
		_, err := c.Thread(ctx, "REFERENCES", nil, &commands.SearchOptions{UID: true})
		return err
	}},
	{"Fetch", func(ctx context.Context, c *commands.Client) error {
		items := &commands.FetchItems{UID: true, Flags: true, InternalDate: true, Size: true, Envelope: true, BodyStructure: true,
			ModSeq: true, EmailID: true, ThreadID: true, Preview: true, ChangedSince: 5, Vanished: true, OnVanished: func(codec.SeqSet, bool) {},
			Sections: []commands.FetchSection{{Specifier: "HEADER"}, {Part: []int{1}}, {Binary: true}}}
		for m, err := range c.Fetch(ctx, commands.UIDRange(1, 0), items) {
			if err != nil {
				return err
			}
			// The first section read whole, the second in part, the
			// rest left to be drained.
			for i := 0; i < 2; i++ {
				sec, err := m.NextSection()
				if err != nil {
					break
				}
				if i == 0 {
					io.Copy(io.Discard, sec)
				} else {
					sec.Read(make([]byte, 7))
				}
			}
			if m.Envelope != nil {
				m.Envelope.DecodedSubject()
				m.Envelope.Time()
			}
			if m.BodyStructure != nil {
				m.BodyStructure.Filename()
			}
		}
		return nil
	}},
	{"FetchBorrow", func(ctx context.Context, c *commands.Client) error {
		var kept []*commands.Message
		for m, err := range c.Fetch(ctx, commands.SeqRange(1, 0), &commands.FetchItems{Envelope: true, BodyStructure: true, Flags: true, Borrow: true}) {
			if err != nil {
				return err
			}
			kept = append(kept, m.Clone())
		}
		return nil
	}},
	{"Partial", func(ctx context.Context, c *commands.Client) error {
		_, err := c.Partial(ctx, commands.SeqNums(1), commands.FetchSection{}, 0, 100)
		return err
	}},
	{"Store", func(ctx context.Context, c *commands.Client) error {
		_, err := c.Store(ctx, commands.UIDRange(1, 9), commands.AddFlags, []string{`\Seen`}, &commands.StoreOptions{UnchangedSince: 12})
		return err
	}},
	{"Copy", func(ctx context.Context, c *commands.Client) error {
		_, err := c.Copy(ctx, commands.UIDs(1, 2, 3), "Archive")
		return err
	}},
	{"StoreSplit", func(ctx context.Context, c *commands.Client) error {
		// 2,000 scattered UIDs (about 11 KB): two UID STORE, pipelined.
		_, err := c.Store(ctx, fcScattered(true), commands.AddFlags, []string{`\Flagged`}, nil)
		return err
	}},
	{"CopySplit", func(ctx context.Context, c *commands.Client) error {
		// Sequence numbers: two COPY, one after the other, the second
		// only if no EXPUNGE came between.
		_, err := c.Copy(ctx, fcScattered(false), "Archive")
		return err
	}},
	{"Move", func(ctx context.Context, c *commands.Client) error {
		_, err := c.Move(ctx, commands.SeqRange(1, 3), "Trash")
		return err
	}},
	{"Expunge", func(ctx context.Context, c *commands.Client) error {
		uids := commands.UIDRange(4, 6)
		_, err := c.Expunge(ctx, &uids)
		return err
	}},
	{"Append", func(ctx context.Context, c *commands.Client) error {
		_, err := c.AppendBytes(ctx, "Sent", []byte("Subject: x\r\n\r\nhi\r\n"), &commands.AppendOptions{Flags: []string{`\Seen`}})
		return err
	}},
	{"Replace", func(ctx context.Context, c *commands.Client) error {
		msg := "Subject: y\r\n\r\nhi\r\n"
		_, err := c.Replace(ctx, commands.UIDs(1), "Drafts", strings.NewReader(msg), int64(len(msg)), nil)
		return err
	}},
	{"Notify", func(ctx context.Context, c *commands.Client) error {
		_, err := c.Notify(ctx, &commands.NotifyOptions{Status: true},
			commands.NotifyGroup{Filter: commands.NotifySelected, Events: commands.NotifyMessageNew | commands.NotifyMessageExpunge, Fetch: &commands.FetchItems{UID: true}},
			commands.NotifyGroup{Filter: commands.NotifySubtree, Mailboxes: []string{"Grüße"}, Events: commands.NotifyMessageNew | commands.NotifyMessageExpunge})
		return err
	}},
	{"Idle", func(ctx context.Context, c *commands.Client) error {
		return c.Idle(ctx, nil, func(codec.Response) bool { return false })
	}},
	{"Recent", func(ctx context.Context, c *commands.Client) error { _, err := c.Recent(ctx); return err }},
	{"Xatom", func(ctx context.Context, c *commands.Client) error {
		_, err := c.Xatom(ctx, "XSTUFF", "a b")
		return err
	}},
	{"Logout", func(ctx context.Context, c *commands.Client) error { return c.Logout(ctx) }},
}

// fcSeed holds a well-formed answer (before the tagged OK the server adds)
// for each command of fcOps, in order. Capability sends none: the
// greeting's capabilities are current.
var fcSeed = []fcAnswer{
	{"ID", "* ID (\"name\" \"Dovecot\" \"version\" NIL)\r\n"},
	{"ENABLE", "* ENABLED CONDSTORE QRESYNC\r\n"},
	{"NAMESPACE", "* NAMESPACE ((\"\" \"/\")) ((\"Other Users/\" \"/\")) ((\"Shared/\" \"/\" \"X-PARAM\" (\"a\")))\r\n"},
	{"LIST", "* LIST (\\HasNoChildren) \"/\" INBOX\r\n* STATUS INBOX (MESSAGES 3 UNSEEN 1)\r\n* LIST (\\HasNoChildren \\Sent) \"/\" \"Sent\"\r\n* LIST (\\Noselect) \"/\" {6}\r\nG&APw-\r\n"},
	{"LSUB", "* LSUB () \"/\" INBOX\r\n* LSUB (\\Noselect) NIL \"Shared\"\r\n"},
	{"STATUS", "* STATUS \"Gr&APw-&AN8-e\" (MESSAGES 4 UIDNEXT 9 UIDVALIDITY 7 UNSEEN 2 SIZE 4096 HIGHESTMODSEQ 12)\r\n"},
	{"GETQUOTAROOT", "* QUOTAROOT INBOX \"\" user\r\n* QUOTA \"\" (STORAGE 10 512 MESSAGE 3 1000)\r\n* QUOTA user (STORAGE 0 0)\r\n"},
	{"GETACL", "* ACL INBOX alice lrswipkxtecda bob lr \"-carol\" w\r\n"},
	{"MYRIGHTS", "* MYRIGHTS INBOX lrswipkxtecda\r\n"},
	{"LISTRIGHTS", "* LISTRIGHTS INBOX bob la r s w\r\n"},
	{"GETMETADATA", "* METADATA INBOX (/private/comment \"hello\" /shared/x NIL /shared/y {3}\r\nabc)\r\n"},
	{"GETANNOTATION", "* ANNOTATION INBOX \"/comment\" (\"value.priv\" \"note\" \"size.priv\" \"4\")\r\n"},
	{"SELECT", "* 20 EXISTS\r\n* FLAGS (\\Seen \\Deleted)\r\n* OK [PERMANENTFLAGS (\\Seen \\Deleted \\*)] ok\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT 21] ok\r\n* OK [HIGHESTMODSEQ 30] ok\r\n" +
		"* VANISHED (EARLIER) 3:4\r\n* 1 FETCH (UID 1 FLAGS (\\Seen) MODSEQ (25))\r\n%T OK [READ-WRITE] selected\r\n"},
	{"UID SEARCH", "* ESEARCH (TAG \"%T\") UID MIN 1 MAX 9 ALL 1:3,9 COUNT 4\r\n"},
	// CopySplit's UID SEARCH of its sequence numbers, in two parts (an
	// extended SEARCH without its ESEARCH is a *MissingError since stop
	// 53).
	{"UID SEARCH", "* ESEARCH (TAG \"%T\") UID ALL 1:3\r\n"},
	{"UID SEARCH", "* ESEARCH (TAG \"%T\") UID\r\n"},
	{"SEARCH", "* SEARCH 2 5 7\r\n"},
	{"UID SORT", "* SORT 9 3 1\r\n"},
	{"SORT", "* ESEARCH (TAG \"%T\") MIN 2 ALL 2,1,5 COUNT 3\r\n"},
	{"UID THREAD", "* THREAD (1)(2 3 (4 5)(6))((7)(8 9))\r\n"},
	{"UID FETCH", "* VANISHED (EARLIER) 11\r\n* 1 FETCH (UID 1 FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 44 " +
		"ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700\" \"=?utf-8?q?Gr=C3=BC=C3=9Fe?=\" ((\"A\" NIL \"a\" \"h\")) NIL NIL ((NIL NIL \"b\" \"h\")) NIL NIL NIL \"<m@h>\") " +
		"BODYSTRUCTURE ((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 3 1)(\"application\" \"pdf\" (\"name\" \"x.pdf\") NIL NIL \"base64\" 4 NIL (\"attachment\" (\"filename\" \"x.pdf\")) NIL NIL) \"mixed\") " +
		"MODSEQ (26) EMAILID (M1) THREADID (T1) PREVIEW \"hi\" BODY[HEADER] {12}\r\nSubject: x\r\n BODY[1] \"abc\" BINARY[] {4}\r\n\x00abc)\r\n"},
	{"FETCH", "* 1 FETCH (FLAGS () ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) BODYSTRUCTURE (\"text\" \"plain\" NIL NIL NIL \"7bit\" 0 0))\r\n* 2 FETCH (FLAGS (\\Seen) ENVELOPE NIL BODYSTRUCTURE (\"text\" \"html\" () NIL NIL \"8bit\" 1 1))\r\n"},
	{"FETCH", "* 1 FETCH (BODY[]<0> {5}\r\nhello)\r\n"},
	{"UID STORE", "* 1 FETCH (UID 1 FLAGS (\\Seen) MODSEQ (31))\r\n%T OK [MODIFIED 2:3] some were modified\r\n"},
	{"UID COPY", "%T OK [COPYUID 7 1:3 101:103] copied\r\n"},
	{"UID STORE", "* 3 FETCH (UID 5 FLAGS (\\Flagged))\r\n"},
	{"UID STORE", "* 9 FETCH (UID 3999 FLAGS (\\Flagged))\r\n"},
	{"COPY", "%T OK [COPYUID 7 1,3 107:108] copied\r\n"},
	{"COPY", "%T OK [COPYUID 7 3999 109] copied\r\n"},
	{"MOVE", "* OK [COPYUID 7 1:3 104:106] moved\r\n* 1 EXPUNGE\r\n* 1 EXPUNGE\r\n* 1 EXPUNGE\r\n"},
	{"UID EXPUNGE", "* VANISHED 4:6\r\n"},
	{"APPEND", "%T OK [APPENDUID 7 22] appended\r\n"},
	{"UID REPLACE", "* 1 EXPUNGE\r\n%T OK [APPENDUID 7 23] replaced\r\n"},
	{"NOTIFY", "* STATUS Gr&APwA3w-e (MESSAGES 1 UIDNEXT 2)\r\n"},
	{"IDLE", "* 21 EXISTS\r\n"},
	{"NOOP", "* SEARCH 17\r\n"},
	{"XSTUFF", "* XSTUFF 1 2 3\r\n"},
	{"LOGOUT", "* BYE logging out\r\n"},
}

// fcTrouble are answers with shapes known to be trouble.
var fcTrouble = []fcAnswer{
	{"UID THREAD", "* THREAD " + strings.Repeat("(1 ", 200) + strings.Repeat(")", 200) + "\r\n"},
	{"UID SEARCH", "* ESEARCH (TAG \"%T\") UID MIN 4294967295 MAX 0 ALL 4294967295:1,*,0 COUNT 18446744073709551615\r\n"},
	{"LIST", "* LIST (\\Noselect \\HasChildren) \"\\\\\" \"a\\\\b\"\r\n* LIST () NIL \"\"\r\n* LIST () \"..\" x\r\n* STATUS \"nowhere\" (MESSAGES 1)\r\n"},
	{"STATUS", "* STATUS \"Gr&APw-&AN8-e\" (MESSAGES 4294967296 SIZE 18446744073709551616 HIGHESTMODSEQ 0)\r\n"},
	{"GETQUOTAROOT", "* QUOTAROOT INBOX\r\n* QUOTA \"\" (STORAGE 18446744073709551615 1 STORAGE 2 3)\r\n* QUOTA NIL ()\r\n"},
	{"GETMETADATA", "* METADATA INBOX (/a NIL /b NIL /a \"x\")\r\n* METADATA INBOX /a /b\r\n%T OK [METADATA LONGENTRIES 99999999999] ok\r\n"},
	{"UID FETCH", "* 1 FETCH (UID 1 UID 2 FLAGS (a) FLAGS (b) BODY[HEADER] {3}\r\nabc BODY[HEADER] {2}\r\nde BODY[1]<5> NIL ENVELOPE NIL ENVELOPE (\"d\" \"s\" NIL NIL NIL NIL NIL NIL NIL NIL))\r\n* 1 FETCH (BODY[1] {100}\r\nshort)\r\n"},
	{"UID COPY", "%T OK [COPYUID 7 1:3 101:102] copied\r\n"},
	{"APPEND", "%T OK [APPENDUID 0 0:*] appended\r\n"},
	{"UID EXPUNGE", "* VANISHED 1:*\r\n* VANISHED (EARLIER) 4294967295:4294967296\r\n"},
	{"GETACL", "* ACL INBOX alice\r\n* ACL\r\n* LISTRIGHTS INBOX\r\n"},
}

// fcExec runs one exec of FuzzClient in a synctest bubble, under the
// real-clock guard cnRealGuard, and returns each operation's error (none
// when the exec failed). With cut >= 0 the client's reads fail after the
// greeting and cut more bytes (fuzzseed.CutConn). The operations run on
// workers goroutines, operation i on goroutine i%workers.
func fcExec(t *testing.T, chunks [][]byte, quiet time.Duration, cut, workers int) []error {
	t.Helper()
	var errs []error
	if stacks := cnGuarded(t, func(t *testing.T) {
		errs = fcBubble(t, chunks, quiet, cut, workers)
	}); stacks != nil {
		t.Fatalf("the exec still running after %v of real time (waiting on what the bubble's clock does not see: a sync.Mutex, a syscall; or spinning)\n%s", cnRealGuard, stacks)
	}
	return errs
}

// fcBubble is one exec of fcExec, in its bubble.
func fcBubble(t *testing.T, chunks [][]byte, quiet time.Duration, cut, workers int) []error {
	pipe, server := transport.Pipe()
	var client net.Conn = pipe
	var cc *fuzzseed.CutConn
	if cut >= 0 {
		cc = fuzzseed.Cut(pipe, int64(len(fcGreeting)+cut))
		client = cc
	}
	srvDone := make(chan struct{})
	go func() {
		defer close(srvDone)
		defer server.Close()
		fcServe(server, chunks, quiet)
	}()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := session.Open(ctx, client, nil)
	if err != nil {
		// The greeting is fixed: Open must succeed.
		client.Close()
		<-srvDone
		t.Fatalf("Open: %v", err)
	}
	c := commands.New(s)
	errs := make([]error, len(fcOps))
	done := make(chan struct{})
	var wg sync.WaitGroup
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < len(fcOps); i += workers {
				errs[i] = fcOps[i].run(ctx, c)
			}
		}()
	}
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-srvDone:
		select {
		case <-done:
		case <-time.After(fcBound):
			t.Errorf("operations still running %v after the server hung up; goroutines:\n%s", fcBound, fuzzseed.Stacks())
			// Close is given fcBound/2: a reader stuck in a loop never
			// lets it return, and the report must be seen before the
			// fuzzing engine kills the worker.
			cancel()
			closed := make(chan struct{})
			go func() { s.Close(); <-done; close(closed) }()
			select {
			case <-closed:
				t.FailNow()
			case <-time.After(fcBound / 2):
				t.Fatalf("Close did not return within %v either", fcBound/2)
			}
		}
	}
	serr := s.Err()
	s.Close()
	client.Close()
	<-srvDone
	for i, err := range append(errs, serr) {
		if err == nil {
			continue
		}
		if msg := err.Error(); fuzzseed.Unsafe(msg) {
			name := "the session"
			if i < len(fcOps) {
				name = fcOps[i].name
			}
			t.Errorf("%s: an error carries control bytes or invalid UTF-8: %q", name, msg)
		}
	}
	fcCheckPanics(t, append(errs, serr)...)
	if cc != nil && cc.Failed() > 1 {
		t.Errorf("%d reads failed after the cut; want at most 1 (the session read again after a failed read)", cc.Failed())
	}
	cnCheckGoroutines(t)
	return errs
}

// fcServe is FuzzClient's server: see FuzzClient.
func fcServe(conn io.ReadWriter, chunks [][]byte, quiet time.Duration) {
	type deadliner interface{ SetReadDeadline(time.Time) error }
	dl := conn.(deadliner)
	if _, err := io.WriteString(conn, fcGreeting); err != nil {
		return
	}
	r := bufio.NewReader(conn)
	// readCommand reads one command, its literals included, and returns
	// its tag and name; ok is false when the client has been quiet for
	// quiet or the connection is gone.
	readCommand := func() (tag, name string, ok bool) {
		var first string
		for {
			dl.SetReadDeadline(time.Now().Add(quiet))
			line, err := r.ReadString('\n')
			if err != nil {
				return "", "", false
			}
			if first == "" {
				first = line
			}
			n, sync, lit := fcLiteral(line)
			if !lit {
				break
			}
			if sync {
				if _, err := io.WriteString(conn, "+ go on\r\n"); err != nil {
					return "", "", false
				}
			}
			dl.SetReadDeadline(time.Now().Add(quiet))
			if _, err := io.CopyN(io.Discard, r, n); err != nil {
				return "", "", false
			}
		}
		f := strings.Fields(first)
		if len(f) < 2 {
			return "", "", len(f) == 1
		}
		if strings.EqualFold(f[1], "UID") && len(f) > 2 {
			return f[0], "UID " + strings.ToUpper(f[2]), true
		}
		return f[0], strings.ToUpper(f[1]), true
	}
	used := make([]bool, len(chunks))
	take := func(name string) []byte {
		any := -1
		for i, c := range chunks {
			if used[i] {
				continue
			}
			key, text, keyed := bytes.Cut(c, []byte{0x1f})
			if keyed && string(key) == name {
				used[i] = true
				return text
			}
			if !keyed && any < 0 {
				any = i
			}
		}
		if any < 0 {
			return nil
		}
		used[any] = true
		return chunks[any]
	}
	for {
		tag, name, ok := readCommand()
		if !ok {
			return
		}
		answer := bytes.ReplaceAll(take(name), []byte("%T"), []byte(tag))
		var err error
		if name == "IDLE" {
			if _, err = conn.Write(append(append([]byte("+ idling\r\n"), answer...), "* 1 EXISTS\r\n"...)); err != nil {
				return
			}
			if _, _, ok := readCommand(); !ok { // DONE
				return
			}
			_, err = io.WriteString(conn, tag+" OK idled\r\n")
		} else {
			if !bytes.HasPrefix(answer, []byte(tag+" ")) && !bytes.Contains(answer, []byte("\n"+tag+" ")) {
				answer = append(answer, tag+" OK done\r\n"...)
			}
			_, err = conn.Write(answer)
		}
		if err != nil {
			return
		}
	}
}

// fcLiteral reports whether line ends with a literal's announcement
// ({n} or {n+}, literal8's ~{n} too), its size (at most 1 MiB is read)
// and whether it waits for "+".
func fcLiteral(line string) (n int64, sync, ok bool) {
	line = strings.TrimRight(line, "\r\n")
	if !strings.HasSuffix(line, "}") {
		return 0, false, false
	}
	open := strings.LastIndexByte(line, '{')
	if open < 0 {
		return 0, false, false
	}
	num := line[open+1 : len(line)-1]
	sync = !strings.HasSuffix(num, "+") && !strings.HasSuffix(num, "-")
	num = strings.TrimRight(num, "+-")
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > 1<<20 {
		return 0, false, false
	}
	return n, sync, true
}
