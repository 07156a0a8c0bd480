package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"
)

// DefaultGracePeriod is how long [CommandConn.Close] waits, after closing
// the child's standard input, for the child to exit by itself before killing
// it.
const DefaultGracePeriod = 2 * time.Second

// stderrLimit is how many trailing bytes of the child's standard error a
// CommandConn keeps.
const stderrLimit = 4 << 10

// CommandConn is a connection to a child process: writes go to its standard
// input and reads come from its standard output. It implements [net.Conn],
// including read and write deadlines (on platforms where pipes support
// them, such as Linux and the BSDs).
//
// Its methods are safe for concurrent use.
type CommandConn struct {
	cmd      *exec.Cmd
	ownGroup bool     // the child leads a process group of its own
	stdin    *os.File // our end: the child's standard input
	stdout   *os.File // our end: the child's standard output
	stderr   *os.File // our end: the child's standard error

	local, remote net.Addr

	exited     chan struct{} // closed once the child has been reaped
	waitErr    error         // valid once exited is closed
	stderrDone chan struct{} // closed when the stderr reader goroutine ends

	mu      sync.Mutex
	tail    []byte // last stderrLimit bytes of standard error
	grace   time.Duration
	closed  bool
	closing chan struct{} // closed when Close has finished
}

// ExecOptions tunes how [ExecWithOptions] starts the child. The zero value
// gives [Exec]'s behaviour.
type ExecOptions struct {
	// SameProcessGroup leaves the child in the current process's process
	// group instead of making it the leader of a new one (Unix; elsewhere
	// it has no effect). An interactive program wants it, for a child
	// that may use the terminal: the child then shares the terminal with
	// its parent, as the commands of a shell pipeline do. In a group of
	// its own, which the terminal takes for a background job, a child
	// reading the terminal (ssh asking for a password, a passphrase or
	// whether to trust a host key) is stopped by SIGTTIN and never gets
	// the answer; in the parent's group it reads it as the parent could,
	// and the terminal's Ctrl-C, Ctrl-\ and Ctrl-Z reach it along with
	// the parent. A parent that handles Ctrl-C itself (to log out, say)
	// has the child ignore SIGINT: Exec cannot, but signals ignored when
	// a program starts stay ignored, so a wrapper such as
	// sh -c "trap '' INT; exec ssh host imapd" does (sftp has its ssh
	// ignore SIGINT the same way).
	//
	// The price: [CommandConn.Close] kills the child alone, not the
	// descendants it started, which must end by themselves (on end of
	// file on their standard input, or by the terminal's signals). A
	// daemon, or any program whose child never needs the terminal, should
	// leave it false.
	SameProcessGroup bool
}

// Exec starts the program name with the given arguments and returns a
// connection to its standard input and output, like Python imaplib's
// IMAP4_stream. Typical commands are "doveadm exec imap -u alice" (a
// pre-authenticated local session) or "ssh host imapd".
//
// The child's standard error is captured (the last 4 KiB are kept) and
// available from [CommandConn.Stderr] for error messages. The child runs
// in its own process group where the platform supports it, so that
// [CommandConn.Close] can kill its descendants too (unless the child
// exited before Close: see there); a child that may need the terminal
// wants [ExecWithOptions] and [ExecOptions.SameProcessGroup]. It inherits
// the environment and working directory of the current process.
//
// On Linux and FreeBSD the child is also killed (SIGKILL) when the current
// process dies without having closed the connection: killed by a signal
// (a second Ctrl-C), say. The kernel sends that signal to the child alone,
// not to its descendants, and Linux drops it when the child executes a
// set-user-ID or set-group-ID program. On other systems a child left
// behind that way sees end of file on its standard input and is expected
// to exit by itself.
//
// ctx is consulted only before the process is started: as with [Dial],
// cancelling ctx later does not affect the connection. Use
// [CommandConn.Close] to end it.
//
// When the child exits, reads return [io.EOF] once its output is drained;
// [CommandConn.Done] and [CommandConn.ExitErr] report the exit.
func Exec(ctx context.Context, name string, args ...string) (*CommandConn, error) {
	return ExecWithOptions(ctx, nil, name, args...)
}

// ExecWithOptions is [Exec] with options; nil opts is the zero
// [ExecOptions], which makes it Exec.
func ExecWithOptions(ctx context.Context, opts *ExecOptions, name string, args ...string) (*CommandConn, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("transport: command %s: %w", name, err)
	}
	ownGroup := opts == nil || !opts.SameProcessGroup
	cmd := exec.Command(name, args...)
	setProcessGroup(cmd, ownGroup)
	c := &CommandConn{
		cmd:        cmd,
		ownGroup:   ownGroup,
		local:      commandAddr("self[" + strconv.Itoa(os.Getpid()) + "]"),
		exited:     make(chan struct{}),
		stderrDone: make(chan struct{}),
		grace:      DefaultGracePeriod,
		closing:    make(chan struct{}),
	}

	var files []*os.File // every pipe end, for cleanup on error
	closeAll := func() {
		for _, f := range files {
			f.Close()
		}
	}
	newPipe := func() (r, w *os.File, err error) {
		r, w, err = os.Pipe()
		if err == nil {
			files = append(files, r, w)
		}
		return r, w, err
	}
	inR, inW, err := newPipe()
	if err == nil {
		var outR, outW, errR, errW *os.File
		outR, outW, err = newPipe()
		if err == nil {
			errR, errW, err = newPipe()
		}
		if err == nil {
			cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, errW
			err = c.start()
		}
		if err == nil {
			// The child has its own copies now.
			inR.Close()
			outW.Close()
			errW.Close()
			c.stdin, c.stdout, c.stderr = inW, outR, errR
			c.remote = commandAddr(filepath.Base(name) + "[" + strconv.Itoa(cmd.Process.Pid) + "]")
			go c.readStderr()
			return c, nil
		}
	}
	closeAll()
	return nil, fmt.Errorf("transport: command %s: %w", name, err)
}

// commandAddr is the net.Addr of either end of a CommandConn.
type commandAddr string

func (commandAddr) Network() string  { return "command" }
func (a commandAddr) String() string { return string(a) }

// start starts the child from a goroutine of its own, which then reaps the
// child as soon as it exits. That goroutine is locked to its OS thread
// from before the start until the child has been reaped: on Linux the
// kernel sends the parent-death signal (see setProcessGroup) when the
// thread that started the child ends, not the process, and the Go runtime
// ends a thread when a goroutine locked to it returns without unlocking
// it (https://go.dev/issue/27505). Exec's caller may be such a goroutine,
// and any goroutine could later be scheduled on, lock and end the thread
// Start ran on; the thread held here is one the reaping blocks in wait4
// anyway.
func (c *CommandConn) start() error {
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := c.cmd.Start(); err != nil {
			runtime.UnlockOSThread()
			started <- err
			return
		}
		started <- nil
		c.waitErr = c.cmd.Wait()
		runtime.UnlockOSThread()
		close(c.exited)
	}()
	return <-started
}

// readStderr keeps the tail of the child's standard error until EOF or
// until Close closes the pipe.
func (c *CommandConn) readStderr() {
	defer close(c.stderrDone)
	buf := make([]byte, 1024)
	for {
		n, err := c.stderr.Read(buf)
		if n > 0 {
			c.mu.Lock()
			c.tail = append(c.tail, buf[:n]...)
			if over := len(c.tail) - stderrLimit; over > 0 {
				c.tail = append(c.tail[:0], c.tail[over:]...)
			}
			c.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

func (c *CommandConn) opError(op string, err error) error {
	if errors.Is(err, os.ErrClosed) {
		err = net.ErrClosed
	} else if pe, ok := err.(*os.PathError); ok {
		err = pe.Err
	}
	return &net.OpError{Op: op, Net: "command", Source: c.local, Addr: c.remote, Err: err}
}

// Read reads from the child's standard output. It returns [io.EOF] once
// the child has closed its standard output (normally by exiting) and all
// output has been read.
func (c *CommandConn) Read(b []byte) (int, error) {
	n, err := c.stdout.Read(b)
	if err != nil && err != io.EOF {
		err = c.opError("read", err)
	}
	return n, err
}

// Write writes to the child's standard input. It fails once the child has
// closed its standard input (normally by exiting).
func (c *CommandConn) Write(b []byte) (int, error) {
	n, err := c.stdin.Write(b)
	if err != nil {
		err = c.opError("write", err)
	}
	return n, err
}

// SetGracePeriod sets how long Close waits for the child to exit after
// closing its standard input before killing it. The default is
// [DefaultGracePeriod]. A zero or negative d kills the child immediately.
func (c *CommandConn) SetGracePeriod(d time.Duration) {
	c.mu.Lock()
	c.grace = d
	c.mu.Unlock()
}

// Close closes the child's standard input and output, waits up to the grace
// period (see [CommandConn.SetGracePeriod]) for the child to exit, then
// kills it, together with its process group where supported, and reaps it.
// A child that exits within the grace period has its process group killed
// too (descendants it left running); one that had exited before Close
// does not (its process group's id is its pid, which the system may have
// given to another process since). A child started with
// [ExecOptions.SameProcessGroup] has no group of its own: Close kills the
// child alone.
// When Close returns, no goroutine started for this connection is left and
// the child is not a zombie.
//
// A second Close returns an error wrapping [net.ErrClosed]. Close does not
// report how the child exited: use [CommandConn.ExitErr] for that.
func (c *CommandConn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		<-c.closing
		return c.opError("close", net.ErrClosed)
	}
	c.closed = true
	grace := c.grace
	c.mu.Unlock()
	defer close(c.closing)
	gone := false // the child had exited before Close
	select {
	case <-c.exited:
		gone = true
	default:
	}

	// Close our read end first, so that a blocked Read reports net.ErrClosed
	// rather than the EOF caused by the child exiting on end of input.
	err := c.stdout.Close()
	if err2 := c.stdin.Close(); err == nil {
		err = err2
	}

	if grace > 0 {
		t := time.NewTimer(grace)
		select {
		case <-c.exited:
		case <-t.C:
		}
		t.Stop()
	}
	select {
	case <-c.exited:
		// The child exited by itself, on end of input: descendants in
		// its group may not have (TestCommandCloseKillsDescendants).
		// Only when it exited during Close: the group's id is a pid,
		// which the kernel could have given out again long after.
		if !gone && c.ownGroup {
			killDescendants(c.cmd.Process)
		}
	default:
		if c.ownGroup {
			killProcessGroup(c.cmd.Process)
		} else {
			// Its group is ours.
			_ = c.cmd.Process.Kill()
		}
		<-c.exited
	}

	// Once the child is gone its standard error normally reaches EOF at
	// once; descendants that escaped the kill may still hold it open, so do
	// not wait for them for long.
	t := time.NewTimer(100 * time.Millisecond)
	select {
	case <-c.stderrDone:
	case <-t.C:
	}
	t.Stop()
	c.stderr.Close()
	<-c.stderrDone

	if err != nil {
		return c.opError("close", err)
	}
	return nil
}

// Done returns a channel that is closed once the child process has exited
// and been reaped.
func (c *CommandConn) Done() <-chan struct{} { return c.exited }

// ExitErr reports how the child exited. It returns nil while the child is
// still running (see [CommandConn.Done]) or if it exited with status 0;
// otherwise it returns an error wrapping the [*exec.ExitError], whose
// ExitCode method gives the status. A child killed by Close reports the
// kill signal.
func (c *CommandConn) ExitErr() error {
	select {
	case <-c.exited:
	default:
		return nil
	}
	if c.waitErr != nil {
		return fmt.Errorf("transport: command %s: %w", c.remote, c.waitErr)
	}
	return nil
}

// Stderr returns a copy of the last 4 KiB the child wrote to its standard
// error so far, for error messages. After [CommandConn.Close] returns it
// holds everything the child wrote before it was reaped.
func (c *CommandConn) Stderr() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.tail...)
}

// Pid returns the process ID of the child.
func (c *CommandConn) Pid() int { return c.cmd.Process.Pid }

// LocalAddr implements net.Conn. It describes the current process.
func (c *CommandConn) LocalAddr() net.Addr { return c.local }

// RemoteAddr implements net.Conn. It describes the child as "name[pid]";
// the arguments are left out, since they might contain secrets.
func (c *CommandConn) RemoteAddr() net.Addr { return c.remote }

// SetDeadline implements net.Conn: it sets both the read and the write
// deadline.
func (c *CommandConn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// SetReadDeadline implements net.Conn. An expired deadline makes Read fail
// with an error wrapping [os.ErrDeadlineExceeded].
func (c *CommandConn) SetReadDeadline(t time.Time) error {
	if err := c.stdout.SetReadDeadline(t); err != nil {
		return c.opError("set read deadline", err)
	}
	return nil
}

// SetWriteDeadline implements net.Conn. An expired deadline makes Write fail
// with an error wrapping [os.ErrDeadlineExceeded].
func (c *CommandConn) SetWriteDeadline(t time.Time) error {
	if err := c.stdin.SetWriteDeadline(t); err != nil {
		return c.opError("set write deadline", err)
	}
	return nil
}
