package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/imapkit/imapkit/internal/testserver"
)

// tourRun is run, for the tour: set by init, since run's command table
// holds demo.
var tourRun func(env *sysEnv, args []string, stdin io.Reader, stdout, stderr io.Writer) int

func init() { tourRun = run }

// runDemo starts a throwaway Dovecot with sample mail and takes a short
// tour of it with imapkit's own commands: capability, list, status, headers,
// search, fetch, idle while another connection appends, and export. It is
// what `make demo` runs.
func runDemo(env *sysEnv, _ io.Reader, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("messages", 40, "sample messages to seed")
	trace := fs.Bool("trace", false, "print the IMAP exchange (passwords redacted)")
	keep := fs.Bool("keep", false, "keep the server's directory")
	idleFor := fs.Duration("idle", 3*time.Second, "how long the tour idles at most while a message is appended (it ends once the new message is shown)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: imapkit demo [-messages N] [-trace] [-keep] [-idle D]")
		fmt.Fprintln(fs.Output())
		fmt.Fprintln(fs.Output(), "Start a throwaway Dovecot with sample mail in a temporary directory, take a")
		fmt.Fprintln(fs.Output(), "tour of it with imapkit's own commands (capability, list, status, headers,")
		fmt.Fprintln(fs.Output(), "search, fetch, idle while a message is appended, export) and stop it.")
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
	if *n < 1 || *idleFor < time.Second {
		fmt.Fprintln(stderr, "imapkit demo: -messages must be at least 1 and -idle at least 1s")
		return 2
	}
	if err := demo(env, stdout, *n, *trace, *keep, *idleFor); err != nil {
		fmt.Fprintln(stderr, "imapkit demo:", errorLine(err))
		return 1
	}
	return 0
}

func demo(env *sysEnv, out io.Writer, n int, trace, keep bool, idleFor time.Duration) error {
	// In $TMPDIR as the run's environment gives it (the process's
	// outside tests: os.TempDir's).
	dir, err := os.MkdirTemp(env.getenv("TMPDIR"), "imapkit-demo-")
	if err != nil {
		return err
	}
	if !keep {
		defer os.RemoveAll(dir)
	}
	fmt.Fprintf(out, "Starting Dovecot in %s with %d sample messages...\n", printable(dir), n)
	srv, err := testserver.Start(dir, &testserver.Options{Seed: n})
	if err != nil {
		return err
	}
	defer srv.Stop()

	// The connection flags a user would give: the demo CA, the password
	// in a file (never on the command line).
	ca, pwFile := filepath.Join(dir, "demo-ca.pem"), filepath.Join(dir, "demo-password")
	if err := os.WriteFile(ca, srv.CAPEM, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(pwFile, []byte(testserver.Password+"\n"), 0o600); err != nil {
		return err
	}
	_, port, _ := strings.Cut(srv.PlainAddr, ":")
	url := "imap://" + testserver.Alice + "@localhost:" + port
	flags := []string{"--ca-file", ca, "--password-file", pwFile}
	if trace {
		flags = append(flags, "--debug")
	}
	// stepIn runs one imapkit command as the tour shows it, in env (the
	// demo's, or the idle's); step runs it in the demo's.
	stepIn := func(env *sysEnv, w io.Writer, what string, args ...string) error {
		shown := append([]string{"imapkit"}, args...)
		for i, a := range shown {
			if strings.ContainsAny(a, " ()\\*") {
				shown[i] = "'" + a + "'"
			}
		}
		fmt.Fprintf(w, "\n# %s\n$ %s\n", what, printable(strings.Join(shown, " ")))
		full := append(append([]string{}, args...), flags...)
		if code := tourRun(env, full, strings.NewReader(""), w, w); code != 0 {
			return fmt.Errorf("imapkit %s: exit status %d", args[0], code)
		}
		return nil
	}
	step := func(w io.Writer, what string, args ...string) error {
		return stepIn(env, w, what, args...)
	}
	fmt.Fprintf(out, "Dovecot listens on %s (STARTTLS) and %s (TLS); the tour uses %s.\n", srv.PlainAddr, srv.TLSAddr, url)

	if err := step(out, "What the server offers after STARTTLS and login", "capability", url); err != nil {
		return err
	}
	if err := step(out, "The mailboxes, with their special uses and counts", "list", url, "--status"); err != nil {
		return err
	}
	if err := step(out, "INBOX at a glance", "status", url, "INBOX"); err != nil {
		return err
	}
	if err := step(out, "The newest messages, subjects decoded from their charsets", "headers", url, "INBOX", "--last", "5"); err != nil {
		return err
	}
	var found bytes.Buffer
	if err := step(io.MultiWriter(out, &found), "The UIDs of the invoices", "search", url, "INBOX", "SUBJECT", testserver.SampleInvoice); err != nil {
		return err
	}
	// The step's output is its heading, the command and the UIDs, a line
	// each: the UIDs are the fields that are numbers.
	var uids []string
	for _, f := range strings.Fields(found.String()) {
		if _, err := strconv.ParseUint(f, 10, 32); err == nil {
			uids = append(uids, f)
		}
	}
	first, uid := "1", "1"
	if len(uids) > 0 {
		first, uid = uids[0], uids[len(uids)-1]
	}
	if err := step(out, "The header of the last of them (fetch does not set \\Seen)", "fetch", url, "INBOX", uid, "--section", "HEADER.FIELDS (FROM TO SUBJECT DATE)"); err != nil {
		return err
	}
	if err := step(out, "The parts of the first: the text, and the invoice attached (--section 2 --decode writes its bytes)", "fetch", url, "INBOX", first, "--parts"); err != nil {
		return err
	}

	// IDLE while another connection appends: the new message shows up
	// as an EXISTS event, and --new fetches its sender and subject.
	// The other process appends once the idle says it is idling (its
	// session is open and the mailbox selected: what comes now reaches
	// its IDLE), not after a third of the idle: a loaded machine could
	// take that long to connect, and the message came before the IDLE,
	// no event (TestDemoTour).
	// The idle ends once it has shown the new message (at the latest
	// after idleFor, its --for): the demo stops it as Ctrl-C would, by
	// its own interrupted context, whose end the idle takes for a
	// normal one. Before, it always lasted idleFor on the wall clock,
	// which had to be long enough for the other process to connect and
	// append and for the FETCH of --new on a loaded machine (6 s in
	// TestDemoTour).
	var appended bytes.Buffer
	appendErr := make(chan error, 1)
	idleOut := &idlingWriter{Writer: out, idling: make(chan struct{}), shown: make(chan struct{})}
	idleDone := make(chan struct{})
	var idleEnv sysEnv
	if env != nil {
		idleEnv = *env
	}
	parent := idleEnv.interrupted
	if parent == nil {
		parent = context.Background()
	}
	idleCtx, endIdle := context.WithCancel(parent)
	defer endIdle()
	idleEnv.interrupted = idleCtx
	// The process's signals stay main's: the idle's end is the demo's,
	// and the steps after it must still stop Dovecot on a Ctrl-C.
	idleEnv.releaseSignals = nil
	go func() {
		select {
		case <-idleOut.shown:
			endIdle()
		case <-idleDone:
		}
	}()
	go func() {
		select {
		case <-idleOut.idling:
		case <-idleDone:
			appendErr <- nil // the idle ended before it idled: its error says why
			return
		}
		msg := "From: demo@example.com\r\nTo: alice@example.com\r\nSubject: hello while you idle\r\n\r\nNew mail arrives during IDLE.\r\n"
		code := tourRun(env, append([]string{"append", url, "INBOX", "-"}, flags...), strings.NewReader(msg), &appended, &appended)
		if code != 0 {
			appendErr <- fmt.Errorf("imapkit append: exit status %d: %s", code, appended.String())
			return
		}
		appendErr <- nil
	}()
	err = stepIn(&idleEnv, idleOut, fmt.Sprintf("Idle on INBOX while another process appends a message (until the new message is shown, at most %v)", idleFor), "idle", url, "INBOX", "--new", "--for", idleFor.String())
	close(idleDone)
	if aerr := <-appendErr; err == nil {
		err = aerr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "(the other process: %s)\n", strings.TrimSpace(appended.String()))

	mbox := filepath.Join(dir, "inbox.mbox")
	if err := step(out, "Export INBOX to an mbox (incremental: run it again and nothing is fetched twice)", "export", url, "INBOX", "--to", mbox); err != nil {
		return err
	}
	if err := step(out, "Again: only new mail would be fetched", "export", url, "INBOX", "--to", mbox); err != nil {
		return err
	}
	fmt.Fprintln(out, "\nTour done; stopping Dovecot. Try \"imapkit help\" for every command, and docs/cli.md.")
	return nil
}

// idlingWriter passes what the idle step writes on to Writer, closes
// idling at the first write that says the idle started ("idling on"), and
// shown once that write has gone on to Writer which shows a new message
// ("new: UID ", idle --new's line).
type idlingWriter struct {
	io.Writer
	once, shownOnce sync.Once
	idling, shown   chan struct{}
}

func (w *idlingWriter) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("idling on ")) {
		w.once.Do(func() { close(w.idling) })
	}
	n, err := w.Writer.Write(p)
	if bytes.Contains(p, []byte("new: UID ")) {
		w.shownOnce.Do(func() { close(w.shown) })
	}
	return n, err
}
