package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	esc "github.com/imapkit/imapkit/internal/printable"
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
	run  func(ctx context.Context, cn *conn, args []string, own any, o *output) error
}

// output is where a command writes.
type output struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	json           bool
	enc            *json.Encoder
	buf            bytes.Buffer // what enc writes, before escapeUnsafe
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
func (sc serverCmd) main(stdin io.Reader, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(sc.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf connFlags
	cf.register(fs)
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
		return exitCode(stderr, sc.name, err)
	}
	if sc.lock != nil {
		l, err := sc.lock(pos, own)
		if err != nil {
			return exitCode(stderr, sc.name, err)
		}
		defer l.unlock()
	}
	ctx := interrupted
	o := &output{stdin: stdin, stdout: stdout, stderr: stderr, json: cf.json}
	var cn *conn
	if sc.noLogin {
		cn, err = cf.dial(ctx, t, stderr)
	} else {
		cn, err = cf.connect(ctx, t, stdin, stderr)
	}
	if err != nil {
		return exitCode(stderr, sc.name, err)
	}
	defer cn.close()
	return exitCode(stderr, sc.name, cn.failed(sc.run(ctx, cn, pos, own, o)))
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
