//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
)

// TestReview47ECountStaleAfterDelivery (found by review): on a destination whose STATUS gives no
// UIDNEXT (the message count alone tells whether a pending group landed),
// the appender now keeps the count itself from the run's first STATUS. A
// message another client (delivery into INBOX during a migration) adds
// mid-run is not in it: the second group is recorded with dst_messages 1
// where the mailbox holds 2. The run stops before that group is sent; the
// next run's STATUS says 2 = 1 + 1, "landed", and the message is never
// sent: lost, exit 0. Before c983c96 prepare asked a STATUS before each
// group on such a server (dst_messages 2: "unchanged", sent again).
// Unlike UIDNEXT taken from APPENDUID (re-synced by every group's
// APPENDUID), the kept count never learns of another client's message.
func TestReview47ECountStaleAfterDelivery(t *testing.T) {
	for _, caps := range []string{"IMAP4rev1 LITERAL+", "IMAP4rev1 LITERAL+ UIDPLUS"} {
		t.Run(caps, func(t *testing.T) {
			f := &e47Dst{caps: caps, uidnext: func(int) bool { return false },
				answer: func(int) string { return "OK [APPENDUID 9 %d:%d] done" }}
			if !strings.Contains(caps, "UIDPLUS") {
				f.answer = func(int) string { return "OK done" }
			}
			addr := f.start(t)
			path, _ := r44ImportSource(t, "maildir", []string{r44ImportMsg(1, ""), r44ImportMsg(2, "")})
			pendings := 0
			testHook = func(step string) error {
				switch step {
				case "appended":
					// Another client delivers a message.
					f.mu.Lock()
					f.held++
					f.next++
					f.mu.Unlock()
				case "pending":
					pendings++
					if pendings == 2 {
						return fmt.Errorf("stopped by the test")
					}
				}
				return nil
			}
			t.Cleanup(func() { testHook = nil })
			if code, _, _ := l46Import(t, addr, path); code == exitOK {
				t.Fatal("run 1: exit 0; want it stopped")
			}
			testHook = nil
			code, _, errs := l46Import(t, addr, path)
			appends, held, _ := f.counts()
			// 2 of ours + 1 delivered = 3 held, 2 APPENDs; or exit 1
			// (cannot tell) would be safe too. Exit 0 with 1 APPEND
			// is message 2 lost.
			if code == exitOK && appends != 2 {
				t.Errorf("run 2: exit 0 with %d APPENDs, %d held: message 2 taken for landed, never sent (lost)\nstderr: %s", appends, held, errs)
			}
		})
	}
}

// TestReview47ECaseMergeSecondRun (found by review): errCaseMerge's new STATUS check (f23139b)
// runs only after this run's CREATE. The first run CREATEs "foo", finds it
// one mailbox with "Foo", and fails it (exit 1, naming --map). But the
// CREATE was answered OK and the server lists "foo" from then on: the
// second run finds "foo" in its LIST (nameMapper.have), asks no CREATE
// and makes no check, and copies foo's mail into Foo: merged, exit 0.
func TestReview47ECaseMergeSecondRun(t *testing.T) {
	boxes := map[string][]string{"Foo": {r43Body(1, false)}, "foo": {r43Body(2, false)}}
	src, err := hostile.Listen(scriptedSource(`(("" "/")) NIL NIL`, []string{`() "/" Foo`, `() "/" foo`}, boxes))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	fake := &e47FoldEchoDst{r42FakeDst: r42FakeDst{caps: "IMAP4rev1 LITERAL+", boxes: map[string]*r42FakeBox{"INBOX": {uidNext: 1}}, statusN: map[string]int{}}}
	addr := serveTCP(t, fake.serve)
	setEnv(t, "IMAPKIT_PASSWORD", "x")
	setEnv(t, "IMAPKIT_DST_PASSWORD", "x")
	setEnv(t, "IMAPKIT_URL", "")
	dir := t.TempDir()
	run := func() (int, string) {
		code, _, errs := runCLI(t, "", "copy", "imap://alice@"+src.Addr(), "imap://alice@"+addr, "--insecure-plaintext", "--dst-insecure-plaintext",
			"--state-dir", dir, "--timeout", "20s", "--quiet")
		return code, errs
	}
	if code, errs := run(); code != exitNo || !strings.Contains(errs, "they are one mailbox") {
		t.Fatalf("run 1: exit %d; want 1 (errCaseMerge)\nstderr: %s", code, errs)
	}
	code, errs := run()
	fake.mu.Lock()
	held := strings.Join(fake.boxes["Foo"].ids, ",")
	fake.mu.Unlock()
	if strings.Contains(held, "u2") {
		t.Errorf("run 2: exit %d, Foo holds %q: foo's u2 merged into Foo; want foo failed again (errCaseMerge)\nstderr: %s", code, held, errs)
	}
}

// TestReview47ECaseVariantNoselectParentDovecot (found by review): a destination (Dovecot) with
// "Foo/bar" lists "Foo" (no mailbox: a parent, \NonExistent or
// \Noselect) among its names, and so among nameMapper.have. The source's
// "foo" is CREATEd fine (Dovecot tells names apart by case), LIST holds
// both names, and f23139b's oneMailbox then asks a STATUS of "Foo",
// which Dovecot refuses (no such mailbox): "foo" fails, exit 1, though
// nothing would merge. Before f23139b it was copied.
func TestReview47ECaseVariantNoselectParentDovecot(t *testing.T) {
	t.Parallel()
	src, err := hostile.Listen(scriptedSource(`(("" "/")) NIL NIL`, []string{`() "/" foo`},
		map[string][]string{"foo": {r43Body(2, false)}}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	b := testserver.StartT(t, nil)
	_, bURL := urls(b)
	c := client(t, b.TLSAddr, b, testserver.Alice, testserver.Password)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Create(ctx, "Foo/bar", nil); err != nil {
		t.Fatal(err)
	}
	boxes, err := c.List(ctx, "*", nil)
	if err != nil {
		t.Fatal(err)
	}
	listed := false
	for _, mb := range boxes {
		if mb.Name == "Foo" {
			listed = true
			t.Logf("Dovecot lists Foo: %+v", mb.Attrs)
		}
	}
	if !listed {
		t.Skip("Dovecot does not list the parent Foo")
	}
	setEnv(t, "IMAPKIT_PASSWORD", "x")
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	setEnv(t, "IMAPKIT_URL", "")
	code, out, errs := runCLI(t, "", "copy", "imap://alice@"+src.Addr(), bURL, "--insecure-plaintext", "--dst-ca-file", writeCA(t, b),
		"--state-dir", t.TempDir(), "--timeout", "20s", "--quiet")
	if code != 0 {
		t.Errorf("exit %d; want 0 (foo is a mailbox of its own; Foo is no mailbox)\nstdout: %s\nstderr: %s", code, out, errs)
	}
}

// TestReview47EStateKeyPathUnsafeRunes (found by review): stateKeyPath shows the key JSON-quoted,
// then printable: a rune json leaves raw but printable hides (C1
// controls, U+200E/U+200F, U+061C, U+202A-U+202E, U+2066-U+2069) becomes
// '?', and the path names a key the state file does not hold:
// del(.mailboxes["a?b"]) in jq removes nothing. A Hebrew or Arabic
// mailbox name may well hold U+200F. Such runes can be written \uXXXX,
// which JSON and jq read back.
func TestReview47EStateKeyPathUnsafeRunes(t *testing.T) {
	for _, key := range []string{"a\u200fb", "a\u0085b", "x\u202ey", "q\"\\\x01"} {
		p := stateKeyPath("mailboxes", key)
		inner, ok := strings.CutPrefix(p, ".mailboxes[")
		inner, ok2 := strings.CutSuffix(inner, "]")
		var got string
		if !ok || !ok2 || json.Unmarshal([]byte(inner), &got) != nil || got != key {
			t.Errorf("stateKeyPath(%q) = %s, which names the key %q; want a path to %q", key, p, got, key)
		}
	}
}

// TestReview47ESectionAllZeros (found by review): d2fad1e's leading-zero refusal comes before the
// "part numbers start at 1" check, and its advice strips every zero:
// --section 00 says "part number 00 has a leading zero (write )", an
// empty suggestion. A number of zeros only is part 0: say that parts
// start at 1 (or suggest "0" is no part at all).
func TestReview47ESectionAllZeros(t *testing.T) {
	for _, spec := range []string{"00", "1.000"} {
		_, err := parseSection(spec)
		if err == nil {
			t.Fatalf("%q: accepted", spec)
		}
		if strings.Contains(err.Error(), "(write )") {
			t.Errorf("%q: %v; want no empty suggestion (part numbers start at 1)", spec, err)
		}
	}
}
