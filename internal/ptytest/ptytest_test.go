//go:build linux

package ptytest

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestStartTerminal checks that the child sees a terminal on its standard
// input and as its controlling terminal, and that typed input reaches it.
func TestStartTerminal(t *testing.T) {
	cmd := exec.Command("sh", "-c", `test -t 0 && echo tty0; test -t 1 && echo tty1; exec 3</dev/tty && echo ctty; read line; echo "got:$line"`)
	term, err := Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	if err := term.Expect("ctty", 10*time.Second); err != nil {
		term.Wait(time.Second)
		t.Fatal(err)
	}
	term.Write([]byte("hello\r"))
	if err := term.Expect("got:hello", 10*time.Second); err != nil {
		t.Error(err)
	}
	if err := term.Wait(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	out := term.Output()
	for _, want := range []string{"tty0", "tty1", "ctty", "got:hello"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestExpectEnds checks that Expect fails, rather than waiting out its
// time, when the child has exited without writing the text.
func TestExpectEnds(t *testing.T) {
	term, err := Start(exec.Command("true"))
	if err != nil {
		t.Fatal(err)
	}
	err = term.Expect("never", time.Hour)
	if err == nil {
		t.Fatal("Expect found text the child never wrote")
	}
	if errors.Is(err, ErrTimeout) {
		t.Errorf("Expect timed out instead of seeing the output end: %v", err)
	}
	term.Wait(10 * time.Second)
}
