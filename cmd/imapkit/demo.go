package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// runDemo starts a throwaway Dovecot with sample mail and drives it: it
// connects with STARTTLS, logs in, lists, selects, searches and fetches,
// then logs out and stops the server. It is what `make demo` runs.
func runDemo(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("messages", 40, "sample messages to seed")
	trace := fs.Bool("trace", false, "print the IMAP exchange (passwords redacted)")
	keep := fs.Bool("keep", false, "keep the server's directory")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: imapkit demo [-messages N] [-trace] [-keep]")
		fmt.Fprintln(fs.Output())
		fmt.Fprintln(fs.Output(), "Start a throwaway Dovecot with sample mail in a temporary directory, drive")
		fmt.Fprintln(fs.Output(), "it (STARTTLS, LOGIN, LIST, SELECT, SEARCH, FETCH, LOGOUT) and stop it.")
		fmt.Fprintln(fs.Output(), "Exit status: 0 on success, 1 if the demo failed, 2 for bad usage.")
		fmt.Fprintln(fs.Output())
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := demo(stdout, *n, *trace, *keep); err != nil {
		fmt.Fprintln(stderr, "imapkit demo:", err)
		return 1
	}
	return 0
}

func demo(out io.Writer, n int, trace, keep bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "imapkit-demo-")
	if err != nil {
		return err
	}
	if !keep {
		defer os.RemoveAll(dir)
	}
	fmt.Fprintf(out, "Starting Dovecot in %s with %d sample messages...\n", dir, n)
	srv, err := testserver.Start(dir, &testserver.Options{Seed: n})
	if err != nil {
		return err
	}
	defer srv.Stop()

	conn, err := transport.Dial(ctx, srv.PlainAddr, nil)
	if err != nil {
		return err
	}
	opts := &session.Options{ServerName: srv.ServerName, StallTimeout: 30 * time.Second}
	if trace {
		opts.Trace = out
	}
	s, err := session.Open(ctx, conn, opts)
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Fprintf(out, "Connected to %s: %s (%s)\n", srv.PlainAddr, s.Welcome().Text, s.ProtocolVersion())

	if err := s.StartTLS(ctx, srv.TLSConfig()); err != nil {
		return fmt.Errorf("STARTTLS: %w", err)
	}
	fmt.Fprintln(out, "STARTTLS done; certificate verified against the demo CA.")

	if _, err := s.Run(ctx, &session.Command{Name: "LOGIN", Args: func(e *wire.Encoder) {
		e.SP().AString(testserver.Alice).SP().Password(testserver.Password)
	}}); err != nil {
		return err
	}
	fmt.Fprintf(out, "Logged in as %s; state %v; %d capabilities.\n\n", testserver.Alice, s.State(), len(s.Caps()))

	// LIST
	r, err := s.Run(ctx, &session.Command{Name: "LIST", Args: func(e *wire.Encoder) { e.SP().String("").SP().AString("*") }})
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "Mailboxes:")
	for _, d := range r.Data {
		l := d.(*codec.List)
		attrs := make([]string, len(l.Attrs))
		for i, a := range l.Attrs {
			attrs[i] = string(a)
		}
		fmt.Fprintf(out, "  %-10s %s\n", codec.DecodeMailboxLenient(l.Mailbox), strings.Join(attrs, " "))
	}

	// SELECT
	r, err = s.Run(ctx, &session.Command{Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Mailbox("INBOX") }})
	if err != nil {
		return err
	}
	for _, d := range r.Data {
		if e, ok := d.(*codec.Exists); ok {
			fmt.Fprintf(out, "\nINBOX selected: %d messages.\n", e.Count)
		}
	}

	// SEARCH
	r, err = s.Run(ctx, &session.Command{Name: "UID SEARCH", Args: func(e *wire.Encoder) {
		e.SP().Atom("SUBJECT").SP().String("invoice")
	}})
	if err != nil {
		return err
	}
	var uids []uint32
	for _, d := range r.Data {
		if sr, ok := d.(*codec.Search); ok {
			uids = append(uids, sr.Nums...)
		}
	}
	fmt.Fprintf(out, "UID SEARCH SUBJECT invoice: %v\n\n", uids)

	// FETCH envelopes and structures of the first ten messages.
	r, err = s.Run(ctx, &session.Command{Name: "FETCH", Args: func(e *wire.Encoder) {
		e.SP().SeqSet([]wire.SeqRange{{Start: 1, Stop: 10}}).SP().Raw("(UID FLAGS RFC822.SIZE ENVELOPE BODYSTRUCTURE)")
	}})
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "UID\tSIZE\tPARTS\tFROM\tSUBJECT")
	for _, d := range r.Data {
		f := d.(*codec.Fetch)
		subj, _ := f.Envelope.DecodedSubject()
		from := ""
		if len(f.Envelope.From) > 0 {
			from, _ = f.Envelope.From[0].DecodedName()
			if from == "" {
				from = string(f.Envelope.From[0].Mailbox) + "@" + string(f.Envelope.From[0].Host)
			}
		}
		parts := 0
		f.BodyStructure.Walk(func(path []int, p *codec.BodyStructure) bool {
			if !p.IsMultipart() {
				parts++
			}
			return true
		})
		fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%s\n", f.UID, f.RFC822Size, parts, clip(from, 24), clip(subj, 50))
	}
	tw.Flush()

	// Stream one whole message without holding it in memory.
	var streamed int64
	_, err = s.Run(ctx, &session.Command{Name: "UID FETCH", Args: func(e *wire.Encoder) {
		e.SP().Number(uint64(firstOr(uids, 1))).SP().Raw("BODY.PEEK[]")
	}, Sections: func(f *codec.Fetch, sec *codec.Section, body io.Reader) error {
		n, err := io.Copy(io.Discard, body)
		streamed += n
		return err
	}})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nStreamed BODY[] of UID %d: %d bytes.\n", firstOr(uids, 1), streamed)

	if err := s.Logout(ctx); err != nil && !errors.Is(err, session.ErrClosed) {
		return err
	}
	fmt.Fprintln(out, "Logged out; stopping Dovecot.")
	return nil
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func firstOr(s []uint32, d uint32) uint32 {
	if len(s) > 0 {
		return s[0]
	}
	return d
}
