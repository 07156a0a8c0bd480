//go:build linux

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
)

// retryDst is a scripted destination: fakeDst's answers for everything
// but APPEND, which it reads itself: synchronizing literals get "+ go"
// unless early is set and the message would go over maxMsgs (then the
// command is refused NO [OVERQUOTA] in place of the continuation, as RFC
// 3501 allows); a MULTIAPPEND over maxMsgs read whole is refused NO
// [OVERQUOTA]. Every APPEND's raw bytes are kept.
type retryDst struct {
	fakeDst
	maxMsgs int // 0: no quota
	early   bool
	// appendUID: answer an APPEND OK [APPENDUID 7 a:b], and SELECT with
	// UIDVALIDITY 7 (UIDPLUS in caps).
	appendUID bool
	// refuse, when set, is the answer to every APPEND read whole (after
	// its tag): "NO [TRYCREATE] gone", say.
	refuse string
	// refuseNUL, when set, is the answer to every APPEND read whole
	// that holds a NUL byte (a literal8): Cyrus 3.6 answers "NO Message
	// contains NUL characters" to a NUL in a header.
	refuseNUL string
	rawMu     sync.Mutex
	appends   []string
}

func (f *retryDst) start(t *testing.T) string { return serveTCP(t, f.serve) }

func (f *retryDst) stored() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.boxes["INBOX"].ids)
}

func (f *retryDst) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	io.WriteString(c, "* PREAUTH [CAPABILITY "+f.caps+"] fake destination\r\n")
	for {
		var raw []byte
		refused := false
		n := 0 // literals of the command
		for {
			line, err := r.ReadBytes('\n')
			raw = append(raw, line...)
			if err != nil {
				return
			}
			m := literalSizeRE.FindSubmatch(line)
			if m == nil {
				break
			}
			size, _ := strconv.Atoi(string(m[1]))
			n++
			if len(m[2]) == 0 {
				if f.early && f.maxMsgs > 0 && f.stored()+n > f.maxMsgs {
					tag, _, _ := strings.Cut(string(raw), " ")
					io.WriteString(c, tag+" NO [OVERQUOTA] Quota exceeded\r\n")
					refused = true
					break
				}
				io.WriteString(c, "+ go\r\n")
			}
			body := make([]byte, size)
			if _, err := io.ReadFull(r, body); err != nil {
				return
			}
			raw = append(raw, body...)
		}
		if refused {
			f.rawMu.Lock()
			f.appends = append(f.appends, string(raw))
			f.rawMu.Unlock()
			continue
		}
		first, _, _ := strings.Cut(string(raw), "\r\n")
		fields := strings.SplitN(first, " ", 3)
		tag, cmd, rest := fields[0], "", ""
		if len(fields) > 1 {
			cmd = strings.ToUpper(fields[1])
		}
		if len(fields) > 2 {
			rest = fields[2]
		}
		if cmd == "APPEND" {
			f.rawMu.Lock()
			f.appends = append(f.appends, string(raw))
			f.rawMu.Unlock()
			if f.refuse != "" {
				io.WriteString(c, tag+" "+f.refuse+"\r\n")
				continue
			}
			if f.refuseNUL != "" && strings.Contains(string(raw), "\x00") {
				io.WriteString(c, tag+" "+f.refuseNUL+"\r\n")
				continue
			}
			if f.maxMsgs > 0 && f.stored()+n > f.maxMsgs {
				io.WriteString(c, tag+" NO [OVERQUOTA] Quota exceeded\r\n")
				continue
			}
		}
		if f.appendUID && cmd == "SELECT" {
			io.WriteString(c, fmt.Sprintf("* %d EXISTS\r\n* OK [UIDVALIDITY 7] x\r\n%s OK [READ-WRITE] done\r\n", f.stored(), tag))
			continue
		}
		before := f.stored()
		out := f.answer(tag, cmd, rest, raw)
		if f.appendUID && cmd == "APPEND" && strings.HasSuffix(out, " OK done\r\n") {
			out = fmt.Sprintf("%s OK [APPENDUID 7 %d:%d] done\r\n", tag, before+1, f.stored())
		}
		if _, err := io.WriteString(c, out); err != nil || cmd == "LOGOUT" {
			return
		}
	}
}

func newRetryDst(caps string, maxMsgs int, early bool) *retryDst {
	return &retryDst{fakeDst: fakeDst{boxes: map[string]*fakeBox{"INBOX": {uidNext: 1}}, statusN: map[string]int{}, caps: caps}, maxMsgs: maxMsgs, early: early}
}

func retryDstIDs(f *retryDst) string { return fakeDstIDs(&f.fakeDst) }

// retryCopyTo runs copy from the scripted source at srcAddr to dstURL.
func retryCopyTo(t *testing.T, srcAddr, dstURL, state string, extra ...string) (int, string, string) {
	t.Helper()
	args := append([]string{"copy", "imap://alice@" + srcAddr, dstURL, "INBOX", "--insecure-plaintext", "--dst-insecure-plaintext",
		"--state-dir", state, "--timeout", "20s", "--quiet"}, extra...)
	setEnv(t, "IMAPKIT_PASSWORD", "x")
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	code, out, errs := runCLI(t, "", args...)
	t.Logf("copy %q: exit %d\nstdout: %s\nstderr: %s", extra, code, out, errs)
	return code, out, errs
}

// TestCopyBinaryRefusedBlocksGroup (real Cyrus): a source message with
// a NUL in a header goes to Cyrus (BINARY) as literal8 after the NUL
// retry, and Cyrus refuses it: "NO Message contains NUL characters" (no
// response code). Its MULTIAPPEND group (u1, u2, u3) is refused whole, is
// not sent again one at a time (retrySingly only for [OVERQUOTA],
// [LIMIT], [TOOBIG]), and the error names no message: u1 and u3 are
// never copied, at every run, and --skip-unsendable does not help (the
// destination has BINARY). Sent singly, u1 lands and the refusal names
// UID 2 ("Any APPEND of one message that fails names its UID so").
func TestCopyBinaryRefusedBlocksGroup(t *testing.T) {
	t.Parallel()
	nulHdr := "From: a@example.com\r\nSubject: u\x002\r\nMessage-ID: <u2@r43>\r\n\r\nhi\r\n"
	bodies := []string{copySourceBody(1, false), nulHdr, copySourceBody(3, false)}
	dstURL, ac := cyrusAlice(t)
	srcAddr := unsendableSource(t, bodies)
	state := t.TempDir()
	for run := 1; run <= 2; run++ {
		// Without --skip-unsendable (which skips it since
		// TestCopyBinaryRefusedSkipUnsendable): the
		// refusal names UID 2 and the option.
		_, _, errs := retryCopyTo(t, srcAddr, dstURL, state)
		got := storedSubjects(mailOf(t, ac, "INBOX"))
		if !slices.Contains(got, "u1") || !strings.Contains(errs, "UID 2: not appended") || !strings.Contains(errs, "--skip-unsendable") {
			t.Errorf("run %d: the destination holds %q, stderr %q: want u1 copied (the message before the refused one) and the refusal naming UID 2", run, got, errs)
		}
	}
}

// TestCopyCyrusOverQuotaGroupNotRetried (real Cyrus 3.6, a 20 KiB
// STORAGE quota, five 6 KiB messages): Cyrus refuses the MULTIAPPEND
// group "NO Over quota", with no [OVERQUOTA] response code, so
// fullRefusal is false and the group is not sent again one at a time:
// nothing is copied, at every run, and the error names no message (the
// very failure 919a68b fixes for Dovecot, which sends the code). Sent one
// at a time, m1..m3 fit and the run stops at UID 4, naming it.
func TestCopyCyrusOverQuotaGroupNotRetried(t *testing.T) {
	t.Parallel()
	cy := testserver.StartCyrusT(t)
	admin := client(t, cy.Addr, nil, testserver.CyrusAdmin, testserver.CyrusAdminPassword)
	ctx := t.Context()
	if err := admin.Create(ctx, "user/alice", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.SetQuota(ctx, "user/alice", map[string]uint64{"STORAGE": 20}); err != nil {
		t.Fatal(err)
	}
	ac := client(t, cy.Addr, nil, testserver.Alice, testserver.Password)
	var bodies []string
	for i := 1; i <= 5; i++ {
		bodies = append(bodies, string(quotaMsg(i)))
	}
	srcAddr := unsendableSource(t, bodies)
	state := t.TempDir()
	for run := 1; run <= 2; run++ {
		code, _, errs := retryCopyTo(t, srcAddr, "imap://alice@"+cy.Addr, state)
		got := storedSubjects(mailOf(t, ac, "INBOX"))
		if strings.Join(got, " ") != "m1 m2 m3" || code != exitNo || !strings.Contains(errs, "UID 4: not appended") {
			t.Errorf("run %d: exit %d, the destination holds %q, stderr %q; want 1, m1 m2 m3 (what fits the quota) and the error naming UID 4", run, code, got, errs)
		}
	}
}

// TestCopyUnrelatedNOStopsAtFirst: a MULTIAPPEND group refused
// by a NO that is not about any of its messages (NO [TRYCREATE]: the
// mailbox is gone) is sent again one message at a time like any other
// refused group; the first message sent alone is refused too, and the
// mailbox stops there, naming it: two APPENDs in all, no loop.
func TestCopyUnrelatedNOStopsAtFirst(t *testing.T) {
	bodies := []string{copySourceBody(1, false), copySourceBody(2, false), copySourceBody(3, false)}
	fake := newRetryDst("IMAP4rev1 LITERAL+ MULTIAPPEND", 0, false)
	fake.refuse = "NO [TRYCREATE] no such mailbox"
	addr := fake.start(t)
	state := t.TempDir()
	srcAddr := unsendableSource(t, bodies)
	code, _, errs := copyToFake(t, srcAddr, &fake.fakeDst, addr, state)
	fake.rawMu.Lock()
	n := len(fake.appends)
	fake.rawMu.Unlock()
	if code != exitNo || n != 2 || !strings.Contains(errs, "UID 1: not appended") || !strings.Contains(errs, "TRYCREATE") {
		t.Errorf("exit %d, %d APPENDs, stderr %q; want 1, 2 APPENDs (the group, then UID 1 alone) and the error naming UID 1 with the server's answer", code, n, errs)
	}
}

// understatedSizeSource starts the source of the SizeUnderstated tests: its
// INBOX holds u1, a message of 462 bytes (UID 2) and u3, each with an
// RFC822.SIZE of half its size; and a MULTIAPPEND destination with an
// APPENDLIMIT of 300. It returns the source's address, the destination
// and its address, and a state directory.
func understatedSizeSource(t *testing.T) (src string, fake *retryDst, addr, state string) {
	t.Helper()
	big := "From: a@example.com\r\nSubject: big\r\nMessage-ID: <big@r43>\r\n\r\n" + strings.Repeat("x", 400) + "\r\n"
	bodies := []string{copySourceBody(1, false), big, copySourceBody(3, false)}
	srv, err := hostile.Listen(scriptedSourceWith(`(("" "/")) NIL NIL`, []string{`() "/" INBOX`}, map[string][]string{"INBOX": bodies},
		sourceOpts{size: func(b string) int { return len(b) / 2 }}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	fake = newRetryDst("IMAP4rev1 LITERAL+ MULTIAPPEND APPENDLIMIT=300", 0, false)
	return srv.Addr(), fake, fake.start(t), t.TempDir()
}

// TestCopySkipUnsendableSizeUnderstated: a source whose RFC822.SIZE is
// smaller than the BODY[] it sends (a server storing bare LF counts LF
// line ends, its BODY[] has CRLF; copy itself does not trust
// RFC822.SIZE, TestCopyWrongRFC822Size) has a message over the
// destination's APPENDLIMIT that the RFC822.SIZE check lets through. The
// library finds it too big when its turn comes mid-MULTIAPPEND, the group
// is abandoned and the connection closed, and the error names no UID;
// --skip-unsendable does not skip it (only the NUL met mid-APPEND is
// attributed to its message and retried), so the mailbox stops there at
// every run and u1, u3 are never copied.
func TestCopySkipUnsendableSizeUnderstated(t *testing.T) {
	src, fake, addr, state := understatedSizeSource(t)
	for run := 1; run <= 2; run++ {
		code, _, errs := copyToFake(t, src, &fake.fakeDst, addr, state, "--skip-unsendable")
		if got := retryDstIDs(fake); code != 0 || got != "<u1@r43> <u3@r43>" {
			t.Errorf("run %d with --skip-unsendable: exit %d, destination %q, stderr %q; want 0, u1 and u3 (UID 2, over APPENDLIMIT, skipped)", run, code, got, errs)
		}
	}
}

// TestCopySizeUnderstatedNamesUID: the same message without
// --skip-unsendable: the mailbox fails naming UID 2 (exit 1), and u1,
// which came before it in its MULTIAPPEND group, is copied, as when
// RFC822.SIZE tells the size. Before, the error named no UID and nothing
// of the group was copied, at every run.
func TestCopySizeUnderstatedNamesUID(t *testing.T) {
	src, fake, addr, state := understatedSizeSource(t)
	for run := 1; run <= 2; run++ {
		code, _, errs := copyToFake(t, src, &fake.fakeDst, addr, state)
		if got := retryDstIDs(fake); code != exitNo || got != "<u1@r43>" || !strings.Contains(errs, "UID 2: not appended") || !strings.Contains(errs, "--skip-unsendable") {
			t.Errorf("run %d: exit %d, destination %q, stderr %q; want 1, u1 copied, and the error naming UID 2 and the option", run, code, got, errs)
		}
	}
}

// TestCopyNULRetryCountsEmptyTwice: a 0-byte message in the group of a
// message holding a NUL (to a destination with BINARY) is opened by the
// try that met the NUL and again by the try after it; the report counts
// it twice ("empty": 2 in --json) and stderr warns twice, where the
// commit's own rule is "a 0-byte message opened twice is warned about and
// counted once".
func TestCopyNULRetryCountsEmptyTwice(t *testing.T) {
	bodies := []string{"", copySourceBody(2, true), copySourceBody(3, false)}
	fake := newRetryDst("IMAP4rev1 MULTIAPPEND BINARY", 0, false)
	addr := fake.start(t)
	state := t.TempDir()
	srcAddr := unsendableSource(t, bodies)
	code, out, errs := copyToFake(t, srcAddr, &fake.fakeDst, addr, state, "--json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var r copyResult
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &r); err != nil {
		t.Fatalf("--json output %q: %v", out, err)
	}
	warned := strings.Count(errs, "UID 1 is empty")
	if r.Empty != 1 || warned != 1 || r.Copied != 3 {
		t.Errorf("report: copied %d, empty %d, %d warnings; want 3 copied, 1 empty message counted and warned about once", r.Copied, r.Empty, warned)
	}
}

// TestCopyNULRetryCountsUnmatchedTwice: the NUL retry copies the
// mailbox again from its start, flag comparison included (--sync-flags),
// and copyResult.add sums the two tries' counts: a copy not found is
// reported twice ("flags_unmatched": 2, "(2 copies not found)") though
// there is one.
func TestCopyNULRetryCountsUnmatchedTwice(t *testing.T) {
	boxes := map[string][]string{"INBOX": {copySourceBody(1, false)}}
	src, err := hostile.Listen(scriptedSource(`(("" "/")) NIL NIL`, []string{`() "/" INBOX`}, boxes))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	fake := newRetryDst("IMAP4rev1 MULTIAPPEND BINARY", 0, false)
	addr := fake.start(t)
	state := t.TempDir()
	if code, _, _ := copyToFake(t, src.Addr(), &fake.fakeDst, addr, state); code != 0 {
		t.Fatalf("run 1: exit %d", code)
	}
	// u1's copy is gone from the destination (no UIDPLUS: no map; its
	// Message-ID is not found): one copy not found. Two new messages, the
	// second holding a NUL.
	fake.mu.Lock()
	fake.boxes["INBOX"].ids = nil
	fake.mu.Unlock()
	boxes["INBOX"] = []string{copySourceBody(1, false), copySourceBody(2, false), copySourceBody(3, true)}
	code, out, _ := copyToFake(t, src.Addr(), &fake.fakeDst, addr, state, "--sync-flags", "--json")
	var r copyResult
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &r); err != nil {
		t.Fatalf("exit %d, --json output %q: %v", code, out, err)
	}
	if r.FlagsUnmatched != 1 || r.Copied != 2 {
		t.Errorf("report: copied %d, flags_unmatched %d; want 2 copied and 1 copy not found", r.Copied, r.FlagsUnmatched)
	}
}

// TestCopySkippedCountsAsCopyNotFound: a message --skip-unsendable
// skipped (over APPENDLIMIT) is below LastUID once the mail after it is
// copied; every later run with --sync-flags takes it for a copied message
// whose copy is missing: it is looked for on the destination by
// Message-ID (copies: an ENVELOPE FETCH and a SEARCH per skipped message,
// at every run; this scripted source sends no ENVELOPE), and counted
// as "(1 copies not found)" / "flags_unmatched": 1, though the state
// records it as skipped, never copied.
func TestCopySkippedCountsAsCopyNotFound(t *testing.T) {
	big := "From: a@example.com\r\nSubject: big\r\nMessage-ID: <big@r43>\r\n\r\n" + strings.Repeat("x", 1000) + "\r\n"
	bodies := []string{copySourceBody(1, false), big, copySourceBody(3, false)}
	fake := newRetryDst("IMAP4rev1 LITERAL+ MULTIAPPEND UIDPLUS APPENDLIMIT=300", 0, false)
	fake.appendUID = true
	addr := fake.start(t)
	state := t.TempDir()
	srcAddr := unsendableSource(t, bodies)
	if code, _, _ := copyToFake(t, srcAddr, &fake.fakeDst, addr, state, "--skip-unsendable"); code != 0 || retryDstIDs(fake) != "<u1@r43> <u3@r43>" {
		t.Fatalf("run 1: exit %d, destination %q", code, retryDstIDs(fake))
	}
	code, out, _ := copyToFake(t, srcAddr, &fake.fakeDst, addr, state, "--sync-flags", "--json")
	var r copyResult
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &r); err != nil {
		t.Fatalf("exit %d, --json output %q: %v", code, out, err)
	}
	if r.FlagsUnmatched != 0 {
		t.Errorf("run 2 --sync-flags: flags_unmatched %d; want 0 (UID 2 is recorded as skipped, not copied)", r.FlagsUnmatched)
	}
}

// TestCopyUIDIndex: copyBox.isSkipped and isBinary answer for the
// list as it is, after appends (hooks.skip, unsendableNUL) and after the
// list is replaced by a shorter one.
func TestCopyUIDIndex(t *testing.T) {
	b := &copyBox{Skipped: []uint32{3, 9}}
	if !b.isSkipped(3) || !b.isSkipped(9) || b.isSkipped(4) {
		t.Fatal("the loaded list")
	}
	b.Skipped = append(b.Skipped, 4)
	if !b.isSkipped(4) || !b.isSkipped(3) {
		t.Error("a UID appended is not found")
	}
	b.Skipped = []uint32{7}
	if b.isSkipped(3) || !b.isSkipped(7) {
		t.Error("a shorter list is answered from the old one")
	}
	if b.isBinary(7) {
		t.Error("Binary answered from Skipped")
	}
	b.Binary = append(b.Binary, 7)
	if !b.isBinary(7) {
		t.Error("a binary UID appended is not found")
	}
}
