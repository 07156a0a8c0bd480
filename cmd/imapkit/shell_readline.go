//go:build !plan9

package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/chzyer/readline"
)

// This file holds the shell's line editing, by readline, which does not
// build for Plan 9 (shell_plain.go stands in there).

// terminalLines reads lines with editing and history. readline saves
// nothing by itself: remember keeps a command line in memory and, with
// --history, appends it to hist, unless it carries a credential.
type terminalLines struct {
	rl *readline.Instance
	// in is the terminal as readline reads it: closing it ends the
	// reading (end).
	in   *readline.CancelableStdin
	hist *os.File // nil: the history is in memory only
}

// end ends the reading of lines, for SIGTERM: readline's read of the
// terminal, which waits for a key, returns io.EOF, so the Readline that
// waits (or the next one) returns, with the terminal restored, and
// readline's Close does not wait for a key. A line typed so far comes back
// as if Enter had been typed: the shell does not run it (runShell checks
// its context).
func (t *terminalLines) end() { t.in.Close() }

// newTerminalLines starts line editing on o's terminal, with the history
// of the file history ("": in memory only; openHistory).
func newTerminalLines(o *output, history string) (*terminalLines, error) {
	in := readline.NewCancelableStdin(o.stdin)
	rl, err := readline.NewEx(&readline.Config{
		Prompt:                 "imap> ",
		DisableAutoSaveHistory: true, // remember, after the credential check
		HistorySearchFold:      true,
		InterruptPrompt:        "^C",
		Stdin:                  in,
		Stdout:                 o.stdout,
		Stderr:                 o.stderr,
	})
	if err != nil {
		return nil, err
	}
	tl := &terminalLines{rl: rl, in: in}
	if history != "" {
		if tl.hist, err = openHistory(rl, history); err != nil {
			rl.Close()
			return nil, err
		}
	}
	return tl, nil
}

func (t *terminalLines) remember(line string) {
	if strings.TrimSpace(line) == "" || holdsCredential(line) {
		return
	}
	t.rl.SaveHistory(line)
	if t.hist != nil {
		fmt.Fprintln(t.hist, line)
	}
}

func (t *terminalLines) next(prompt string) (string, error) {
	t.rl.SetPrompt(prompt)
	for {
		l, err := t.rl.Readline()
		if errors.Is(err, readline.ErrInterrupt) {
			if l == "" {
				return "", errLineInterrupt
			}
			continue // Ctrl-C drops the line
		}
		return l, err
	}
}
func (t *terminalLines) out() io.Writer { return t.rl.Stdout() }
func (t *terminalLines) close() {
	t.rl.Close()
	if t.hist != nil {
		t.hist.Close()
	}
}
