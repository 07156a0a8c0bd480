//go:build plan9

package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// This file stands in for shell_readline.go where readline does not
// build (Plan 9): the shell on a terminal reads plain lines, with a
// prompt and no editing; --history is kept as on other systems (loaded
// lines are not recalled: there are no arrow keys to recall them).

// terminalLines reads lines from the terminal, a prompt before each.
type terminalLines struct {
	r    *bufio.Reader
	w    io.Writer
	in   io.Reader
	hist *os.File // nil: no history file
}

// discardHistory is openHistory's saver here: nothing recalls lines.
type discardHistory struct{}

func (discardHistory) SaveHistory(string) error { return nil }

// newTerminalLines reads lines from o's terminal, with the history file
// history ("": none; openHistory cleans it as on other systems).
func newTerminalLines(o *output, history string) (*terminalLines, error) {
	tl := &terminalLines{r: bufio.NewReader(o.stdin), w: o.stdout, in: o.stdin}
	if history != "" {
		var err error
		if tl.hist, err = openHistory(discardHistory{}, history); err != nil {
			return nil, err
		}
	}
	return tl, nil
}

// end ends the reading of lines (SIGTERM): the terminal is closed when it
// can be, so that the read that waits returns.
func (t *terminalLines) end() {
	if c, ok := t.in.(io.Closer); ok {
		c.Close()
	}
}

func (t *terminalLines) next(prompt string) (string, error) {
	fmt.Fprint(t.w, prompt)
	return readLine(t.r)
}

func (t *terminalLines) remember(line string) {
	if strings.TrimSpace(line) == "" || holdsCredential(line) {
		return
	}
	if t.hist != nil {
		fmt.Fprintln(t.hist, line)
	}
}

func (t *terminalLines) out() io.Writer { return t.w }

func (t *terminalLines) close() {
	if t.hist != nil {
		t.hist.Close()
	}
}
