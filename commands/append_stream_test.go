package commands_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/wire"
)

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// openInTurn returns AppendMessages whose Open checks that the message
// before was sent whole when its own turn comes.
func openInTurn(t *testing.T, bodies []string, opts []*commands.AppendOptions) ([]commands.AppendMessage, *int) {
	readers := make([]*countingReader, len(bodies))
	opened := new(int)
	msgs := make([]commands.AppendMessage, len(bodies))
	for i, b := range bodies {
		msgs[i] = commands.AppendMessage{Options: opts[i], Size: -1, Open: func() (io.Reader, int64, error) {
			if *opened != i {
				return nil, 0, fmt.Errorf("message %d opened after %d messages", i, *opened)
			}
			if i > 0 && readers[i-1].n != len(bodies[i-1]) {
				return nil, 0, fmt.Errorf("message %d opened when %d bytes of the one before were read", i, readers[i-1].n)
			}
			*opened++
			readers[i] = &countingReader{r: strings.NewReader(b)}
			return readers[i], int64(len(b)), nil
		}}
	}
	return msgs, opened
}

func TestAppendManyOpenSync(t *testing.T) {
	c, ctx := scripted(t, "append/streamed_sync")
	msgs, opened := openInTurn(t, []string{"hello", "bye"}, []*commands.AppendOptions{
		{Flags: []string{`\Seen`}},
		{Flags: []string{`\Flagged`}, Date: time.Date(2024, 2, 1, 10, 0, 0, 0, time.UTC)},
	})
	res, err := c.AppendMany(ctx, "INBOX", msgs)
	if err != nil {
		t.Fatal(err)
	}
	if *opened != 2 || res.UIDValidity != 9 || res.UIDs.String() != "4:5" {
		t.Errorf("opened %d, result %d %v", *opened, res.UIDValidity, res.UIDs)
	}
}

func TestAppendManyOpenLiteralPlus(t *testing.T) {
	c, ctx := scripted(t, "append/streamed_plus")
	msgs, opened := openInTurn(t, []string{"one\r\ntwo", "", "last"}, make([]*commands.AppendOptions, 3))
	res, err := c.AppendMany(ctx, "INBOX", msgs)
	if err != nil {
		t.Fatal(err)
	}
	if *opened != 3 || res.UIDs.String() != "6:8" {
		t.Errorf("opened %d, result %v", *opened, res.UIDs)
	}
}

// TestAppendManyOpenError: an Open that fails leaves the server in the
// middle of the command; the session is aborted and the error says why.
func TestAppendManyOpenError(t *testing.T) {
	c, ctx := scripted(t, "append/streamed_fail")
	boom := errors.New("the source went away")
	msgs := []commands.AppendMessage{
		{R: strings.NewReader("hello"), Size: 5},
		{Open: func() (io.Reader, int64, error) { return nil, 0, boom }},
	}
	_, err := c.AppendMany(ctx, "INBOX", msgs)
	if !errors.Is(err, boom) {
		t.Fatalf("AppendMany: %v; want the Open error", err)
	}
	if c.Session().Err() == nil {
		t.Error("the session is still up after a command stopped in its middle")
	}
}

// TestBadFlags replays append/bad_flags: a flag that is not an atom is an
// error naming it, matching wire.ErrInvalidAtom, and nothing is sent.
func TestBadFlags(t *testing.T) {
	c, ctx := scripted(t, "append/bad_flags")
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	msg := []byte("Subject: x\r\n\r\nbody\r\n")
	for _, flag := range []string{"my flag", `\`, "(x", "Grüße", ""} {
		check := func(what string, err error) {
			t.Helper()
			if !errors.Is(err, wire.ErrInvalidAtom) || !strings.Contains(err.Error(), fmt.Sprintf("%q", flag)) {
				t.Errorf("%s with flag %q: %v", what, flag, err)
			}
		}
		flags := []string{`\Seen`, flag}
		_, err := c.Store(ctx, commands.SeqNums(1), commands.AddFlags, flags, nil)
		check("Store", err)
		_, err = c.AppendBytes(ctx, "INBOX", msg, &commands.AppendOptions{Flags: flags})
		check("Append", err)
		_, err = c.AppendMany(ctx, "INBOX", []commands.AppendMessage{{R: bytes.NewReader(msg), Size: int64(len(msg)),
			Options: &commands.AppendOptions{Flags: flags}}})
		check("AppendMany", err)
		_, err = c.AppendCatenate(ctx, "INBOX", []commands.CatenatePart{{URL: "/INBOX;UIDVALIDITY=1/;UID=1"}},
			&commands.AppendOptions{Flags: flags})
		check("AppendCatenate", err)
	}
	if err := c.Noop(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestAppendManyNormalizeCRLF replays append/many_crlf: AppendMany applies
// each message's NormalizeCRLF, as Append does (it sent them as they were).
func TestAppendManyNormalizeCRLF(t *testing.T) {
	c, ctx := scripted(t, "append/many_crlf")
	norm := &commands.AppendOptions{NormalizeCRLF: true}
	res, err := c.AppendMany(ctx, "INBOX", []commands.AppendMessage{
		{R: strings.NewReader("a\nb"), Size: 3, Options: norm},
		{Size: -1, Options: norm, Open: func() (io.Reader, int64, error) { return strings.NewReader("c\rd"), 3, nil }},
	})
	if err != nil || res.UIDs.String() != "1:2" {
		t.Fatalf("%v %+v", err, res)
	}
}
