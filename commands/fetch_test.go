package commands_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
)

func TestFetchDovecot(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	mb := dvMailbox(t, testserver.Alice, 12)
	st, err := c.Select(ctx, mb, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Exists != 12 || st.UIDValidity == 0 || st.UIDNext != 13 || st.ReadOnly {
		t.Fatalf("state %+v", st)
	}
	// Bodies byte for byte, streamed; every other message's body skipped.
	n := 0
	for m, err := range c.Fetch(ctx, commands.SeqRange(1, 0), &commands.FetchItems{
		UID: true, Flags: true, Size: true, Envelope: true,
		Sections: []commands.FetchSection{commands.WholeMessage}, BufferMax: 1000,
	}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		want := testserver.SampleMessage(int(m.SeqNum) - 1)
		if m.UID != m.SeqNum || m.Size != int64(len(want)) || m.Envelope == nil {
			t.Fatalf("message %d: uid %d size %d env %v", m.SeqNum, m.UID, m.Size, m.Envelope)
		}
		info := testserver.SampleInfo(int(m.SeqNum) - 1)
		if got, _ := m.Envelope.DecodedSubject(); got != info.Subject {
			t.Errorf("subject %q, want %q", got, info.Subject)
		}
		if m.SeqNum%2 == 0 {
			continue // skipped: must be drained
		}
		s, err := m.NextSection()
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(s)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("message %d: body differs (%d vs %d bytes)", m.SeqNum, len(got), len(want))
		}
		if _, err := m.NextSection(); err != io.EOF {
			t.Fatalf("after the last section: %v", err)
		}
		if _, err := s.Read(make([]byte, 1)); s.Size > commands.BufferedSectionMax && !errors.Is(err, commands.ErrSectionGone) {
			t.Fatalf("read of an old section: %v", err)
		}
	}
	if n != 12 {
		t.Fatalf("%d messages, want 12", n)
	}
	// UID set, partial and header fields; break out early, then run more.
	for m, err := range c.Fetch(ctx, commands.UIDs(3, 5), &commands.FetchItems{
		Sections: []commands.FetchSection{{Specifier: "HEADER.FIELDS", Fields: []string{"Message-ID"}}, {Count: 10}},
	}) {
		if err != nil {
			t.Fatal(err)
		}
		if m.UID != 3 {
			t.Fatalf("first UID %d", m.UID)
		}
		s, _ := m.NextSection()
		h, _ := io.ReadAll(s)
		if !bytes.Contains(h, []byte(testserver.SampleInfo(2).MessageID)) {
			t.Fatalf("header %q", h)
		}
		s, _ = m.NextSection()
		p, _ := io.ReadAll(s)
		if !bytes.Equal(p, testserver.SampleMessage(2)[:10]) || s.Origin != 0 || !s.HasOrigin {
			t.Fatalf("partial %q origin %d", p, s.Origin)
		}
		break
	}
	ms, err := c.FetchAll(ctx, commands.UIDs(7), &commands.FetchItems{Flags: true})
	if err != nil || len(ms) != 1 || ms[0].UID != 7 || ms[0].Flags == nil {
		t.Fatalf("after break: %v %+v", err, ms)
	}
	// A bad set: the server's BAD comes as the iteration's error.
	var se *session.StatusError
	_, err = c.FetchAll(ctx, commands.SeqNums(99), &commands.FetchItems{Flags: true})
	if err != nil && !errors.As(err, &se) {
		t.Fatalf("fetch 99: %v", err)
	}
	_ = codec.FetchUID
}

// TestFetchCancelDovecot ends the context while a section is held and
// while messages are queued: the iteration ends with the context's error,
// the rest of the answer is read and dropped, and the Client goes on.
func TestFetchCancelDovecot(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	mb := dvMailbox(t, testserver.Alice, 20)
	if _, err := c.Examine(dvCtx(t), mb); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(dvCtx(t))
	defer cancel()
	n := 0
	var last error
	for m, err := range c.Fetch(ctx, commands.SeqRange(1, 0), &commands.FetchItems{Sections: []commands.FetchSection{{}}, BufferMax: -1}) {
		if err != nil {
			last = err
			break
		}
		n++
		s, _ := m.NextSection()
		s.Read(make([]byte, 10))
		cancel()
	}
	if n != 1 || !errors.Is(last, context.Canceled) {
		t.Fatalf("%d messages, %v", n, last)
	}
	// The connection is still in step.
	ms, err := c.FetchAll(dvCtx(t), commands.UIDs(20), &commands.FetchItems{Size: true})
	if err != nil || len(ms) != 1 || ms[0].Size != int64(len(testserver.SampleMessage(19))) {
		t.Fatalf("after cancel: %v %+v", err, ms)
	}
	// Breaking out of the loop (without cancel) also leaves it in step.
	for range c.Fetch(dvCtx(t), commands.SeqRange(1, 0), &commands.FetchItems{Sections: []commands.FetchSection{{}}, BufferMax: -1}) {
		break
	}
	if err := c.Noop(dvCtx(t)); err != nil {
		t.Fatal(err)
	}
}

// bigMessage returns a message of about size bytes.
func bigMessage(subject string, size int) []byte {
	var b bytes.Buffer
	b.WriteString("From: a@example.org\r\nTo: b@example.org\r\nSubject: " + subject + "\r\n\r\n")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "line %06d of the body of %s, long enough to count\r\n", i, subject)
	}
	return b.Bytes()
}

// TestFetchRunWhileHoldingDovecot runs other commands from inside the loop
// while a section is half read: a streamed one (over the 64 KiB string
// limit), one read in place from its FETCH response (over BufferMax) and
// a small one. Nothing deadlocks, and every body arrives whole.
func TestFetchRunWhileHoldingDovecot(t *testing.T) {
	mb := dvMailbox(t, testserver.Alice, 0)
	msgs := [][]byte{testserver.SampleMessage(0), bigMessage("big", 300<<10), bigMessage("medium", 20<<10), testserver.SampleMessage(1)}
	c := dvClient(t, testserver.Alice, nil)
	ctx, cancel := context.WithTimeout(dvCtx(t), 30*time.Second) // a deadlock fails here
	defer cancel()
	for _, m := range msgs {
		if _, err := c.AppendBytes(ctx, mb, m, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	for _, set := range []commands.Set{commands.UIDRange(1, 0), commands.SeqRange(1, 0)} {
		n := 0
		var vanished int
		for m, err := range c.Fetch(ctx, set, &commands.FetchItems{UID: true, Flags: true,
			Sections: []commands.FetchSection{commands.WholeMessage}, OnVanished: func(codec.SeqSet, bool) { vanished++ }}) {
			if err != nil {
				t.Fatalf("%v: %v", set, err)
			}
			n++
			s, err := m.NextSection()
			if err != nil {
				t.Fatal(err)
			}
			head := make([]byte, 100)
			if _, err := io.ReadFull(s, head); err != nil {
				t.Fatal(err)
			}
			// Other commands while the section is held (by sequence
			// numbers the NOOP waits for the FETCH to end: its answer is
			// queued meanwhile).
			if err := c.Noop(ctx); err != nil {
				t.Fatal(err)
			}
			if set.UID {
				if _, err := c.Status(ctx, "INBOX", 0); err != nil {
					t.Fatal(err)
				}
				ms, err := c.FetchAll(ctx, commands.UIDs(1), &commands.FetchItems{Size: true})
				if err != nil || len(ms) != 1 || ms[0].Size != int64(len(msgs[0])) {
					t.Fatalf("FETCH inside: %v %+v", err, ms)
				}
			}
			rest, err := io.ReadAll(s)
			if err != nil {
				t.Fatalf("message %d: %v", m.SeqNum, err)
			}
			if got := append(head, rest...); !bytes.Equal(got, msgs[m.SeqNum-1]) {
				t.Fatalf("message %d: body differs (%d vs %d bytes)", m.SeqNum, len(got), len(msgs[m.SeqNum-1]))
			}
			if m.UID != m.SeqNum || m.Flags == nil {
				t.Fatalf("message %d: uid %d flags %v", m.SeqNum, m.UID, m.Flags)
			}
			if _, err := m.NextSection(); err != io.EOF {
				t.Fatalf("after the last section: %v", err)
			}
			if _, err := s.Read(head); len(msgs[m.SeqNum-1]) > commands.BufferedSectionMax && !errors.Is(err, commands.ErrSectionGone) {
				t.Fatalf("message %d: read after NextSection: %v", m.SeqNum, err)
			}
		}
		if n != len(msgs) {
			t.Fatalf("%v: %d messages", set, n)
		}
	}
	// ListIter lets the loop run commands too.
	for mi, err := range c.ListIter(ctx, "*", nil) {
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Noop(ctx); err != nil {
			t.Fatalf("NOOP inside LIST (%s): %v", mi.Name, err)
		}
	}
}

// TestFetchBorrowDovecot fetches with FetchItems.Borrow and runs other
// commands from inside the loop: the lent message's values (the decoder's
// own) stay as they were while the loop body is on it (the session gives
// the decoder new memory when the reader must go on), its section reads
// whole (a streamed one too), and Clone's copies hold the same values.
func TestFetchBorrowDovecot(t *testing.T) {
	mb := dvMailbox(t, testserver.Alice, 0)
	msgs := [][]byte{testserver.SampleMessage(0), testserver.SampleMessage(1), bigMessage("big", 300<<10), testserver.SampleMessage(2)}
	c := dvClient(t, testserver.Alice, nil)
	ctx, cancel := context.WithTimeout(dvCtx(t), 30*time.Second)
	defer cancel()
	for _, m := range msgs {
		if _, err := c.AppendBytes(ctx, mb, m, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	var clones []*commands.Message
	var subjects []string
	for m, err := range c.Fetch(ctx, commands.UIDRange(1, 0), &commands.FetchItems{UID: true, Flags: true,
		Envelope: true, BodyStructure: true, Sections: []commands.FetchSection{commands.WholeMessage}, Borrow: true}) {
		if err != nil {
			t.Fatal(err)
		}
		if m.Envelope == nil || m.BodyStructure == nil || m.Flags == nil {
			t.Fatalf("message %d: %+v", m.SeqNum, m)
		}
		subject, typ := string(m.Envelope.Subject), string(m.BodyStructure.Type)
		if err := c.Noop(ctx); err != nil {
			t.Fatal(err)
		}
		ms, err := c.FetchAll(ctx, commands.UIDs(1), &commands.FetchItems{Envelope: true, BodyStructure: true})
		if err != nil || len(ms) != 1 {
			t.Fatalf("FETCH inside: %v %+v", err, ms)
		}
		if string(m.Envelope.Subject) != subject || string(m.BodyStructure.Type) != typ {
			t.Fatalf("message %d: subject %q, type %q after other commands; were %q, %q",
				m.SeqNum, m.Envelope.Subject, m.BodyStructure.Type, subject, typ)
		}
		s, err := m.NextSection()
		if err != nil {
			t.Fatal(err)
		}
		if got, err := io.ReadAll(s); err != nil || !bytes.Equal(got, msgs[m.SeqNum-1]) {
			t.Fatalf("message %d: body %d bytes, %v", m.SeqNum, len(got), err)
		}
		if _, err := m.NextSection(); err != io.EOF {
			t.Fatalf("after the last section: %v", err)
		}
		clones = append(clones, m.Clone())
		subjects = append(subjects, subject)
	}
	if len(clones) != len(msgs) {
		t.Fatalf("%d messages", len(clones))
	}
	for i, m := range clones {
		if m.UID != uint32(i+1) || string(m.Envelope.Subject) != subjects[i] || m.BodyStructure == nil {
			t.Fatalf("copy %d: UID %d subject %q, want %q", i, m.UID, m.Envelope.Subject, subjects[i])
		}
	}
	if got, _ := clones[0].Envelope.DecodedSubject(); got != testserver.SampleInfo(0).Subject {
		t.Fatalf("subject %q", got)
	}
}
