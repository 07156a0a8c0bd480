package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/imapkit/imapkit/codec"
)

var shellCommand = serverCmd{
	name: "shell", summary: "an interactive IMAP session: type commands, see the responses decoded",
	help: "Log in, then read IMAP commands as on the wire but without tags (SELECT INBOX,\n" +
		"UID FETCH 1:5 (FLAGS ENVELOPE)), send each and print every response decoded. A quoted\n" +
		"string or a word with 8-bit characters goes as a literal when it must; {N} at the end\n" +
		"of a line takes the next N bytes typed (lines end in CRLF) as a literal. IDLE idles\n" +
		"until the next line (DONE). QUIT, EXIT, LOGOUT or end of input ends the session.\n" +
		"On a terminal: line editing and history (arrow keys, Ctrl-R); Ctrl-C stops the\n" +
		"command that runs (or IDLE), and on an empty line ends the shell. Otherwise the commands\n" +
		"are read line by line from stdin, each echoed after \"> \", and the exit status is 1\n" +
		"if one of them was answered NO or BAD.",
	flags: func(fs *flag.FlagSet) any {
		return fs.String("history", "", "keep the shell's history in this `file` (default: in memory only)")
	},
	run: runShell,
}

// errShellFailed is the end of a scripted shell in which a command was
// answered NO or BAD (or could not be sent): exit status 1.
var errShellFailed = errors.New("commands failed")

// errLineInterrupt is Ctrl-C typed on an empty line of a terminal.
var errLineInterrupt = errors.New("interrupted")

// lineSource gives the shell its input.
type lineSource interface {
	// next returns the next line, without its line end; io.EOF at the end.
	next(prompt string) (string, error)
	// out is where responses go while a line is being read (IDLE).
	out() io.Writer
	// remember adds a command line to the history, if there is one.
	remember(line string)
	close()
}

// scriptLines reads lines from a reader that is not a terminal.
type scriptLines struct {
	r *bufio.Reader
	w io.Writer
}

func (s *scriptLines) next(string) (string, error) { return readLine(s.r) }
func (s *scriptLines) out() io.Writer              { return s.w }
func (s *scriptLines) remember(string)             {}
func (s *scriptLines) close()                      {}

// maxHistory is how many lines of the history file are loaded.
const maxHistory = 500

// historySaver is what openHistory loads the lines into: a
// *readline.Instance (a terminalLines' own history where there is no
// readline: shell_plain.go).
type historySaver interface{ SaveHistory(string) error }

// openHistory opens (or creates) the history file, readable by its owner
// only (an existing file readable by others is made private, or refused),
// and loads its last lines into rl's history. Credential lines (which an
// older imapkit saved), with the lines of a literal they announce (a
// password typed at "literal> "), are not loaded, and are dropped from the
// file: it is rewritten in place without them.
func openHistory(rl historySaver, name string) (*os.File, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("--history: %w", err)
	}
	if fi, err := f.Stat(); err == nil && fi.Mode().Perm()&0o077 != 0 {
		if err := f.Chmod(fi.Mode().Perm() &^ 0o077); err != nil {
			f.Close()
			return nil, fmt.Errorf("--history: %s is readable by others (mode %v) and cannot be made private: %w", printable(name), fi.Mode().Perm(), err)
		}
	}
	b, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("--history: %w", err)
	}
	var lines, keep []string
	dropped := false
	lit := 0 // bytes still to drop of a credential line's literal
	for _, raw := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if lit > 0 {
			// A line of the literal a credential line announced (the
			// password typed at "literal> ", which an older imapkit
			// saved too): dropped, each line counted with its CRLF as
			// the shell sends it (parseTyped); what follows the literal
			// on its last line goes on the command, maybe to another.
			dropped = true
			if lit >= len(raw)+2 {
				lit -= len(raw) + 2
				continue
			}
			rest := ""
			if lit < len(raw) {
				rest = raw[lit:]
			}
			lit = literalLen(rest)
			continue
		}
		l := strings.TrimSpace(raw)
		if holdsCredential(l) {
			dropped = true
			lit = literalLen(l)
			continue
		}
		keep = append(keep, raw)
		if l != "" {
			lines = append(lines, l)
		}
	}
	if dropped {
		if err := rewriteHistory(f, keep); err != nil {
			f.Close()
			return nil, fmt.Errorf("--history: dropping the lines with credentials from %s: %w", printable(name), err)
		}
	}
	if len(lines) > maxHistory {
		lines = lines[len(lines)-maxHistory:]
	}
	for _, l := range lines {
		rl.SaveHistory(l)
	}
	return f, nil
}

// literalLen is the size of the literal {N} (or {N+}) a typed line ends
// with, 0 for none.
func literalLen(line string) int {
	m := literalHeader.FindStringSubmatch(strings.TrimSpace(line))
	if m == nil {
		return 0
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n > maxTypedLiteral {
		return 0
	}
	return n
}

// rewriteHistory replaces the content of f (opened O_APPEND) with lines.
// In place, not by a renamed copy: the file that held the credentials is
// the one cleaned, through a symbolic link too.
func rewriteHistory(f *os.File, lines []string) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	if _, err := f.WriteString(b.String()); err != nil {
		return err
	}
	return f.Sync()
}

// holdsCredential reports whether a typed line may carry a credential:
// LOGIN or AUTHENTICATE (which the shell refuses, but which a person types
// with the password), also after a tag typed out of habit. Such a line is
// kept out of the history.
func holdsCredential(line string) bool {
	w := strings.Fields(line)
	for i := 0; i < len(w) && i < 2; i++ {
		switch strings.ToUpper(w[i]) {
		case "LOGIN", "AUTHENTICATE":
			return true
		}
	}
	return false
}

// bothTerminal reports whether r and w are both a terminal.
func bothTerminal(r io.Reader, w io.Writer) bool {
	return isTerminal(r) && isTerminal(w)
}

// errCommandInterrupted is a shell command that Ctrl-C stopped.
var errCommandInterrupted = errors.New("command interrupted")

// cmdCtx runs one command of the shell. On a terminal, Ctrl-C (SIGINT,
// sent while the command runs: readline does not read then) stops that
// command alone, with errCommandInterrupted: the session abandons it (its
// answer is read and dropped) and the shell goes on. From a script it
// ends the shell as it ends any command.
func cmdCtx(ctx context.Context, interactive bool, run func(context.Context) error) error {
	if !interactive {
		return run(ctx)
	}
	cctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	err := run(cctx)
	if err != nil && cctx.Err() != nil && ctx.Err() == nil {
		return errCommandInterrupted
	}
	return err
}

func runShell(ctx context.Context, cn *conn, _ []string, own any, o *output) error {
	var src lineSource
	interactive := bothTerminal(o.stdin, o.stdout)
	if interactive {
		// The process's Ctrl-C ends a command of the shell, not the
		// shell (cmdCtx); SIGTERM still ends it, at the prompt too (below).
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(context.WithoutCancel(ctx), syscall.SIGTERM)
		defer stop()
		tl, err := newTerminalLines(o, *own.(*string))
		if err != nil {
			return err
		}
		src = tl
		// SIGTERM: the shell's handler and main's go first (a second
		// SIGTERM then ends the process at once, even while the LOGOUT
		// waits), then the reading of the terminal ends, if the shell
		// waits at its prompt: readline does not watch ctx.
		defer context.AfterFunc(ctx, func() {
			stop()
			cn.flags.sys().release()
			tl.end()
		})()
		fmt.Fprintf(o.stdout, "Logged in; %d capabilities. Type IMAP commands without tags; QUIT ends.\n", len(cn.c.Caps()))
	} else {
		src = &scriptLines{r: bufio.NewReader(o.stdin), w: o.stdout}
	}
	defer src.close()
	s := cn.c.Session()
	p := newRespPrinter(src.out(), o.json, s)
	failed, total := 0, 0
	for {
		prompt := "imap> "
		if m, ro := s.Mailbox(); m != "" {
			if ro {
				m += " (read-only)"
			}
			prompt = "imap " + printable(m) + "> "
		}
		line, err := src.next(prompt)
		if interactive && ctx.Err() != nil {
			return errShellTerminated // SIGTERM: the line is not run
		}
		if err == io.EOF || err == errLineInterrupt {
			break // Ctrl-D, or Ctrl-C on an empty line at the prompt
		}
		if err != nil {
			return err
		}
		src.remember(line)
		tc, err := parseTyped(line, func() (string, error) { return src.next("literal> ") })
		if interactive && ctx.Err() != nil {
			return errShellTerminated // SIGTERM while a literal was typed
		}
		if !interactive && !o.json && strings.TrimSpace(line) != "" {
			fmt.Fprintf(o.stdout, "> %s\n", printable(line))
		}
		if err != nil {
			fmt.Fprintf(o.stderr, "imapkit shell: %s\n", errorLine(err))
			failed++
			continue
		}
		if tc == nil {
			continue
		}
		total++
		switch tc.name {
		case "QUIT", "EXIT", "LOGOUT":
			return shellEnd(failed, total, interactive)
		case "IDLE":
			err = shellIdle(ctx, cn, p, src)
			if err == io.EOF {
				return shellEnd(failed, total, interactive)
			}
		default:
			err = cmdCtx(ctx, interactive, func(cctx context.Context) error { return runTyped(cctx, s, p, tc) })
			if errors.Is(err, errCommandInterrupted) {
				fmt.Fprintln(o.stderr, "imapkit shell: interrupted; the rest of its answer is read and dropped")
				failed++
				continue
			}
		}
		if interactive && ctx.Err() != nil {
			return errShellTerminated // SIGTERM while the command ran
		}
		if err == nil {
			continue
		}
		var ue *usageError
		switch {
		case errors.As(err, &ue):
			fmt.Fprintf(o.stderr, "imapkit shell: %s\n", errorLine(err))
			failed++
		case isNo(err):
			failed++ // the status is printed
		default:
			return err // the connection is gone
		}
	}
	return shellEnd(failed, total, interactive)
}

// errShellTerminated ends an interactive shell on SIGTERM: exit status 3.
var errShellTerminated = errors.New("terminated")

// shellEnd is the shell's result: errShellFailed for a script with
// failures.
func shellEnd(failed, total int, interactive bool) error {
	if failed > 0 && !interactive {
		return fmt.Errorf("%d of %d: %w", failed, total, errShellFailed)
	}
	return nil
}

// shellIdle idles, printing the events, until the next line is typed. It
// returns io.EOF when the input ended.
func shellIdle(ctx context.Context, cn *conn, p *respPrinter, src lineSource) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- cn.c.Idle(ctx, nil, func(r codec.Response) bool {
			p.print(r)
			return true
		})
	}()
	_, rerr := src.next("idling; DONE (or any line, or Ctrl-C) stops> ")
	if rerr == errLineInterrupt {
		rerr = nil // Ctrl-C stops IDLE, not the shell
	}
	cancel()
	err := <-done
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	if err == nil && rerr == io.EOF {
		return io.EOF
	}
	if err == nil && rerr != nil {
		return rerr
	}
	return err
}
