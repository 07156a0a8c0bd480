//go:build linux

// Package ptytest runs a child process on a pseudo-terminal, for tests of
// what a program does only on a terminal: a password prompt without echo, a
// progress bar, line editing.
//
// It is Linux-only (it opens /dev/ptmx) and uses golang.org/x/sys/unix, which
// the module already has through golang.org/x/term, rather than a pty module.
package ptytest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Open returns a new pseudo-terminal's two ends: the controlling side
// (master), which a test reads and writes, and the terminal (slave), which
// becomes the child's standard input, output and error. Both must be closed.
func Open() (master, slave *os.File, err error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("ptytest: %w", err)
	}
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("ptytest: unlockpt: %w", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("ptytest: ptsname: %w", err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("ptytest: %w", err)
	}
	return m, s, nil
}

// Terminal is a child process running on a pseudo-terminal, with
// everything it has written so far collected.
type Terminal struct {
	cmd    *exec.Cmd
	master *os.File

	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{} // closed when the reader has seen the end of output
}

// Start starts cmd with a new pseudo-terminal as its controlling terminal
// and its standard input, output and error, and collects what it writes.
// The caller must call Wait.
func Start(cmd *exec.Cmd) (*Terminal, error) {
	m, s, err := Open()
	if err != nil {
		return nil, err
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = s, s, s
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setsid = true
	cmd.SysProcAttr.Setctty = true
	cmd.SysProcAttr.Ctty = 0 // the child's descriptor 0, the terminal
	if err := cmd.Start(); err != nil {
		m.Close()
		s.Close()
		return nil, fmt.Errorf("ptytest: %w", err)
	}
	s.Close() // the child holds it now
	t := &Terminal{cmd: cmd, master: m, done: make(chan struct{})}
	go t.read()
	return t, nil
}

func (t *Terminal) read() {
	defer close(t.done)
	buf := make([]byte, 4096)
	for {
		n, err := t.master.Read(buf)
		t.mu.Lock()
		t.out.Write(buf[:n])
		t.mu.Unlock()
		if err != nil { // EIO once the child and its descendants closed the terminal
			return
		}
	}
}

// Output returns everything the child has written so far, as the terminal
// received it (with CR LF line ends and any control sequences).
func (t *Terminal) Output() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.out.String()
}

// ErrTimeout is returned by Expect when the text did not appear in time.
var ErrTimeout = errors.New("ptytest: timed out waiting for output")

// Expect waits until the output contains s, for at most d.
func (t *Terminal) Expect(s string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		if bytes.Contains([]byte(t.Output()), []byte(s)) {
			return nil
		}
		select {
		case <-t.done:
			if bytes.Contains([]byte(t.Output()), []byte(s)) {
				return nil
			}
			return fmt.Errorf("ptytest: output ended without %q; output:\n%s", s, t.Output())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: %q; output so far:\n%s", ErrTimeout, s, t.Output())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Echo reports whether the terminal echoes what is typed (the ECHO flag
// of its line discipline, which the master end reads as the child set it).
func (t *Terminal) Echo() (bool, error) {
	tio, err := unix.IoctlGetTermios(int(t.master.Fd()), unix.TCGETS)
	if err != nil {
		return false, fmt.Errorf("ptytest: %w", err)
	}
	return tio.Lflag&unix.ECHO != 0, nil
}

// Write types p on the terminal, as a person would.
func (t *Terminal) Write(p []byte) (int, error) { return t.master.Write(p) }

var _ io.Writer = (*Terminal)(nil)

// Wait waits for the child to exit, for at most d (then it is killed),
// waits for its output to end, and returns its exit error.
func (t *Terminal) Wait(d time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- t.cmd.Wait() }()
	var err error
	select {
	case err = <-errc:
	case <-time.After(d):
		t.cmd.Process.Kill()
		err = <-errc
		if err == nil {
			err = ErrTimeout
		}
		err = fmt.Errorf("ptytest: killed after %v: %w", d, err)
	}
	select {
	case <-t.done:
	case <-time.After(5 * time.Second):
		// A descendant still holds the terminal; stop reading.
	}
	t.master.Close()
	<-t.done
	return err
}
