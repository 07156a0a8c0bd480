package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	esc "github.com/imapkit/imapkit/internal/printable"
	"github.com/imapkit/imapkit/session"
)

// serverCmd is a command that talks to a server: it takes the connection
// flags, the server's URL first, then its own arguments.
type serverCmd struct {
	name    string
	args    string // synopsis after the URL
	summary string
	help    string // what it does, for its usage text
	min     int    // positional arguments after the URL
	max     int    // -1 for no limit
	// flags adds the command's own flags; the returned value is handed
	// to run.
	flags func(fs *flag.FlagSet) any
	// noLogin leaves logging in to run (probe).
	noLogin bool
	// check, when set, checks the positional arguments before anything
	// is asked or sent: a *usageError for bad ones.
	check func(args []string, own any) error
	// lock, when set, takes the lock of the command's state file
	// (lockState) before anything is asked or sent; it is held until
	// the command ends. nil when there is nothing to lock.
	lock func(args []string, own any) (*stateLock, error)
	// session, when set, adjusts the options of the session the command
	// opens from its own flags (metadata get's --max-value), after check
	// and before anything is asked or sent.
	session func(args []string, own any, o *session.Options)
	run     func(ctx context.Context, cn *conn, args []string, own any, o *output) error
}

// output is where a command writes.
type output struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	json           bool
	enc            *json.Encoder
	buf            bytes.Buffer // what enc writes, before escapeUnsafe
}

// stdinUntil returns o.stdin as read under ctx, the command's context:
// a Read that waits for input (a terminal, a pipe whose writer is slow)
// returns errInterrupted as soon as ctx ends (Ctrl-C, SIGTERM), and so
// does every Read after. append's spooling of the message, a set given
// as "-" and raw's literals read stdin through it: they ignored Ctrl-C
// while stdin stayed open, and the second one killed the process (append
// leaving its temporary file behind).
//
// A blocking read cannot be woken (os.Stdin is not in the runtime's
// poller unless it was non-blocking at start, and making it so would
// change the terminal or pipe the parent shares): the read runs in a
// goroutine of its own, into a buffer of its own, which stays blocked
// after the interrupt until input comes or the process, which is
// ending, exits. A regular file, which does not wait, is read directly
// (ctx is checked before each Read).
func (o *output) stdinUntil(ctx context.Context) io.Reader {
	if f, ok := o.stdin.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			return &ctxCheckReader{ctx: ctx, r: f}
		}
	}
	return &ctxReader{ctx: ctx, r: o.stdin, done: make(chan ctxReadResult, 1)}
}

// errInterrupted is what a read of stdin returns once the command's
// context has ended; it wraps the context's error.
type errInterrupted struct{ err error }

func (e *errInterrupted) Error() string { return "interrupted" }
func (e *errInterrupted) Unwrap() error { return e.err }

// ctxCheckReader is a reader that does not wait, read while ctx lasts.
type ctxCheckReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxCheckReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, &errInterrupted{err}
	}
	return c.r.Read(p)
}

// ctxReader reads r in a goroutine, one Read at a time into buf, and
// gives up waiting for it when ctx ends (stdinUntil).
type ctxReader struct {
	ctx     context.Context
	r       io.Reader
	buf     []byte
	done    chan ctxReadResult
	pending bool // a Read of r runs, into buf
}

// ctxReadResult is the outcome of one Read of ctxReader's r.
type ctxReadResult struct {
	n   int
	err error
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		// Also after an interrupted Read: its goroutine may still
		// write into buf.
		return 0, &errInterrupted{err}
	}
	if len(p) == 0 {
		return 0, nil
	}
	if !c.pending {
		if c.buf == nil {
			c.buf = make([]byte, 32<<10)
		}
		buf := c.buf[:min(len(p), len(c.buf))]
		c.pending = true
		go func() {
			n, err := c.r.Read(buf)
			c.done <- ctxReadResult{n, err}
		}()
	}
	select {
	case res := <-c.done:
		c.pending = false
		return copy(p, c.buf[:res.n]), res.err
	case <-c.ctx.Done():
		return 0, &errInterrupted{c.ctx.Err()}
	}
}

// emit writes one JSON object on a line, with C1 and bidirectional
// controls escaped (escapeUnsafe).
func (o *output) emit(v any) error {
	if o.enc == nil {
		o.enc = json.NewEncoder(&o.buf)
		o.enc.SetEscapeHTML(false)
	}
	o.buf.Reset()
	if err := o.enc.Encode(v); err != nil {
		return err
	}
	_, err := o.stdout.Write(escapeUnsafe(o.buf.Bytes()))
	return err
}

// escapeUnsafe escapes, in encoding/json's output, what it writes as it
// is but printable would not show (esc.Unsafe): the C1 controls (U+0080
// to U+009F; a terminal may take U+009B for CSI) and the bidirectional
// controls (U+061C, U+200E, U+200F, U+202A to U+202E, U+2066 to U+2069),
// as \u0080 or \u202e. encoding/json escapes C0 and U+2028, U+2029
// itself. Outside strings JSON has no bytes above 0x7f, so only strings
// change, and they decode to the same text.
func escapeUnsafe(b []byte) []byte {
	var out []byte // nil until something is escaped
	start := 0
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if esc.Unsafe(r) {
			out = append(out, b[start:i]...)
			out = fmt.Appendf(out, "\\u%04x", r)
			start = i + n
		}
		i += n
	}
	if out == nil {
		return b
	}
	return append(out, b[start:]...)
}

// table returns a writer for a readable table, cells separated by tabs,
// aligned by display width (tableWriter); Flush it.
func (o *output) table() *tableWriter {
	return &tableWriter{w: o.stdout}
}

// command turns a serverCmd into an entry of the command table.
func (sc serverCmd) command() command {
	return command{name: sc.name, args: "[flags] URL " + sc.args, summary: sc.summary, run: sc.main}
}

// main parses the command line, connects, runs the command and returns the
// exit code.
func (sc serverCmd) main(env *sysEnv, stdin io.Reader, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(sc.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf connFlags
	cf.register(fs, env)
	var own any
	if sc.flags != nil {
		own = sc.flags(fs)
	}
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: imapkit %s [flags] imap[s]://USER@HOST[:PORT] %s\n\n", sc.name, sc.args)
		fmt.Fprintln(w, sc.help)
		fmt.Fprintln(w)
		fmt.Fprintln(w, "The URL may come from $IMAPKIT_URL instead; the password from $IMAPKIT_PASSWORD,")
		fmt.Fprintln(w, "--password-file or a prompt on the terminal. Flags may come before or after the")
		fmt.Fprintln(w, "arguments. Exit status: 0 ok, 1 the server said NO, 2 usage, 3 connection or")
		fmt.Fprintln(w, "protocol error. See docs/cli.md.")
		fmt.Fprintln(w)
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	t, pos, err := cf.splitURL(pos)
	if err == nil && (len(pos) < sc.min || sc.max >= 0 && len(pos) > sc.max) {
		err = usagef("usage: imapkit %s [flags] URL %s", sc.name, sc.args)
	}
	if err == nil && sc.check != nil {
		err = sc.check(pos, own)
	}
	if err != nil {
		return exitCode(env, stderr, sc.name, err)
	}
	if sc.session != nil {
		cf.tune = func(o *session.Options) { sc.session(pos, own, o) }
	}
	if sc.lock != nil {
		l, err := sc.lock(pos, own)
		if err != nil {
			return exitCode(env, stderr, sc.name, err)
		}
		defer l.unlock()
	}
	ctx := env.ctx()
	o := &output{stdin: stdin, stdout: stdout, stderr: stderr, json: cf.json}
	var cn *conn
	if sc.noLogin {
		cn, err = cf.dial(ctx, t, stderr)
	} else {
		cn, err = cf.connect(ctx, t, stdin, stderr)
	}
	if err != nil {
		return exitCode(env, stderr, sc.name, err)
	}
	defer cn.close()
	return exitCode(env, stderr, sc.name, cn.failed(sc.run(ctx, cn, pos, own, o)))
}

// parseInterleaved parses fs's flags wherever they are among the
// arguments ("fetch INBOX 7 --section TEXT") and returns the positional
// arguments; everything after "--" is positional.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// listFlags splits a list of flags given as one argument ("\Seen,\Flagged"
// or "\Seen \Flagged").
func listFlags(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}
