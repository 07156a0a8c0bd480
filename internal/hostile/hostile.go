package hostile

import (
	"bufio"
	"bytes"
	"compress/flate"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imapkit/imapkit/transport"
)

// ErrGone reports that the connection ended: the client closed it, or the
// server was shut down. Every helper of [Conn] returns an error wrapping it
// once the connection is over; [Server.Err] does not count it as a failure
// of the scenario, since a client that gives up on a hostile server is
// what the tests expect.
var ErrGone = errors.New("hostile: connection closed")

// MaxCommandLine bounds the command lines [Conn.ReadLine] accepts from the
// client, so that the server stays bounded whatever the client sends.
const MaxCommandLine = 64 << 10

// Scenario is the script the server plays on one connection. It returns
// nil when it ran to its end; an error that wraps [ErrGone] when the
// connection ended first; any other error when the client did something
// the script did not expect.
type Scenario func(c *Conn) error

// Server runs a [Scenario] for every connection, on 127.0.0.1 ([Listen])
// or over an in-memory pipe ([Pipe]).
type Server struct {
	scenario Scenario
	ln       net.Listener // nil for Pipe
	done     chan struct{}
	wg       sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	errs  []error
	n     int // connections served

	closeOnce sync.Once
}

// Listen starts a server on a free port of 127.0.0.1 that plays s on
// every connection it accepts. Close it with [Server.Close].
func Listen(s Scenario) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := newServer(s)
	srv.ln = ln
	srv.wg.Add(1)
	go srv.accept()
	return srv, nil
}

// Pipe plays s on the server end of a [transport.Pipe] and returns the
// client end. The server's Close closes both ends and waits for the
// scenario to return.
func Pipe(s Scenario) (client net.Conn, srv *Server) {
	client, server := transport.Pipe()
	srv = newServer(s)
	if !srv.track(server) {
		server.Close()
	}
	srv.wg.Add(1)
	go srv.serve(server)
	srv.mu.Lock()
	srv.conns[client] = struct{}{} // closed by Close too
	srv.mu.Unlock()
	return client, srv
}

func newServer(s Scenario) *Server {
	return &Server{scenario: s, done: make(chan struct{}), conns: map[net.Conn]struct{}{}}
}

// Addr returns the address the server listens on ("127.0.0.1:port"), or
// "" for a server made by [Pipe].
func (srv *Server) Addr() string {
	if srv.ln == nil {
		return ""
	}
	return srv.ln.Addr().String()
}

// Conns returns the number of connections the server has played its
// scenario on so far.
func (srv *Server) Conns() int {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.n
}

// Close stops listening, closes every connection (which interrupts every
// stall, sleep, read and write of the scenarios) and waits until every
// goroutine of the server has returned. It is safe to call more than once.
func (srv *Server) Close() error {
	srv.closeOnce.Do(func() {
		close(srv.done)
		if srv.ln != nil {
			srv.ln.Close()
		}
		srv.mu.Lock()
		for c := range srv.conns {
			c.Close()
		}
		srv.mu.Unlock()
	})
	srv.wg.Wait()
	return nil
}

// Err returns the errors of the scenarios that failed for a reason other
// than the end of the connection ([ErrGone]), joined, or nil.
func (srv *Server) Err() error {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return errors.Join(srv.errs...)
}

func (srv *Server) accept() {
	defer srv.wg.Done()
	for {
		nc, err := srv.ln.Accept()
		if err != nil {
			return // closed
		}
		if !srv.track(nc) {
			nc.Close()
			return
		}
		srv.wg.Add(1)
		go srv.serve(nc)
	}
}

// track registers nc for Close; false when the server is closed already.
func (srv *Server) track(nc net.Conn) bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	select {
	case <-srv.done:
		return false
	default:
	}
	srv.conns[nc] = struct{}{}
	return true
}

func (srv *Server) serve(nc net.Conn) {
	defer srv.wg.Done()
	c := newConn(nc, srv.done)
	err := srv.run(c)
	c.closeAll()
	srv.mu.Lock()
	defer srv.mu.Unlock()
	delete(srv.conns, nc)
	srv.n++
	if err != nil && !errors.Is(err, ErrGone) {
		srv.errs = append(srv.errs, err)
	}
}

// run plays the scenario, turning a panic of the script into an error.
func (srv *Server) run(c *Conn) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("hostile: scenario panicked: %v", r)
		}
	}()
	return srv.scenario(c)
}

// Conn is the server's side of one connection, with the helpers a
// scenario is written with. Its methods are meant to be called from the
// scenario's goroutine only.
type Conn struct {
	raw  net.Conn      // the TCP or pipe connection
	cur  net.Conn      // raw, or the TLS connection over it
	out  io.Writer     // cur, or the deflate writer over it
	in   *bufio.Reader // reads commands (plain, TLS or inflated)
	zw   *flate.Writer
	zdst *switchWriter // where zw writes
	done <-chan struct{}

	written atomic.Int64

	// Caps are the capabilities announced by Greet and PreAuth and sent by
	// Answer for CAPABILITY.
	Caps string
}

func newConn(nc net.Conn, done <-chan struct{}) *Conn {
	c := &Conn{raw: nc, cur: nc, done: done, Caps: "IMAP4rev1"}
	c.out = countWriter{c}
	c.in = bufio.NewReader(nc)
	return c
}

// countWriter writes to c.cur and counts the bytes.
type countWriter struct{ c *Conn }

func (w countWriter) Write(p []byte) (int, error) {
	n, err := w.c.cur.Write(p)
	w.c.written.Add(int64(n))
	return n, err
}

// Written returns the number of bytes written to the connection so far
// (compressed or encrypted bytes count as they go on the wire below TLS
// and deflate: the bytes given to the TLS or deflate layer).
func (c *Conn) Written() int64 { return c.written.Load() }

// Net returns the underlying connection (TCP or pipe).
func (c *Conn) Net() net.Conn { return c.raw }

func (c *Conn) closeAll() {
	c.cur.Close()
	c.raw.Close()
}

// gone wraps a connection error with ErrGone.
func (c *Conn) gone(op string, err error) error {
	return fmt.Errorf("hostile: %s: %w (%w)", op, ErrGone, err)
}

// isDone reports whether the server is shutting down.
func (c *Conn) isDone() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// Write writes b as it is.
func (c *Conn) Write(b []byte) error {
	if c.isDone() {
		return c.gone("write", net.ErrClosed)
	}
	if _, err := c.out.Write(b); err != nil {
		return c.gone("write", err)
	}
	if c.zw != nil {
		if err := c.zw.Flush(); err != nil {
			return c.gone("write", err)
		}
	}
	return nil
}

// WriteString writes s as it is (no CRLF is added).
func (c *Conn) WriteString(s string) error { return c.Write([]byte(s)) }

// Line writes s followed by CRLF.
func (c *Conn) Line(s string) error { return c.WriteString(s + "\r\n") }

// Linef writes a formatted line followed by CRLF.
func (c *Conn) Linef(format string, args ...any) error {
	return c.Line(fmt.Sprintf(format, args...))
}

// Lines writes each line followed by CRLF, in one write (one TCP segment
// when small: how an injection rides along with a legitimate response).
func (c *Conn) Lines(lines ...string) error {
	return c.WriteString(strings.Join(lines, "\r\n") + "\r\n")
}

// Greet sends "* OK [CAPABILITY caps] ..." and sets c.Caps. An empty caps
// keeps c.Caps.
func (c *Conn) Greet(caps string) error {
	if caps != "" {
		c.Caps = caps
	}
	return c.Linef("* OK [CAPABILITY %s] hostile server ready", c.Caps)
}

// PreAuth sends "* PREAUTH [CAPABILITY caps] ..." and sets c.Caps.
func (c *Conn) PreAuth(caps string) error {
	if caps != "" {
		c.Caps = caps
	}
	return c.Linef("* PREAUTH [CAPABILITY %s] hostile server, logged in", c.Caps)
}

// Command is one command line read from the client.
type Command struct {
	Tag  string // "A1"
	Name string // upper case, "UID FETCH" for UID commands
	Args string // the rest of the line after the name, without CRLF
	Line string // the whole line, without CRLF
	// Literal is the size of the literal announced at the end of the
	// line, or -1; NonSync tells {n+} from {n}.
	Literal int64
	NonSync bool
}

// ReadLine reads one line from the client, without its CRLF. Lines longer
// than MaxCommandLine are an error.
func (c *Conn) ReadLine() (string, error) {
	var b []byte
	for {
		frag, err := c.in.ReadSlice('\n')
		b = append(b, frag...)
		if len(b) > MaxCommandLine {
			return "", fmt.Errorf("hostile: command line longer than %d bytes", MaxCommandLine)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return "", c.gone("read", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
}

// ReadCommand reads one command line and splits it into tag, name and
// arguments. It does not read the literal a line may announce: see
// [Conn.ReadLiteral] and [Conn.Continue].
func (c *Conn) ReadCommand() (*Command, error) {
	line, err := c.ReadLine()
	if err != nil {
		return nil, err
	}
	return ParseCommand(line), nil
}

// ParseCommand splits a command line (without CRLF).
func ParseCommand(line string) *Command {
	cmd := &Command{Line: line, Literal: -1}
	tag, rest, _ := strings.Cut(line, " ")
	name, args, _ := strings.Cut(rest, " ")
	name = strings.ToUpper(name)
	if name == "UID" {
		var sub string
		sub, args, _ = strings.Cut(args, " ")
		name += " " + strings.ToUpper(sub)
	}
	cmd.Tag, cmd.Name, cmd.Args = tag, name, args
	if strings.HasSuffix(line, "}") {
		if i := strings.LastIndexByte(line, '{'); i >= 0 {
			num := line[i+1 : len(line)-1]
			if strings.HasSuffix(num, "+") {
				num, cmd.NonSync = num[:len(num)-1], true
			}
			if n, err := strconv.ParseInt(num, 10, 64); err == nil && n >= 0 {
				cmd.Literal = n
			} else {
				cmd.NonSync = false
			}
		}
	}
	return cmd
}

// Expect reads a command and fails unless its name is name.
func (c *Conn) Expect(name string) (*Command, error) {
	cmd, err := c.ReadCommand()
	if err != nil {
		return nil, err
	}
	if cmd.Name != strings.ToUpper(name) {
		return cmd, fmt.Errorf("hostile: expected %s, client sent %q", name, cmd.Line)
	}
	return cmd, nil
}

// ReadLiteral reads the n bytes of a literal the client sends. Up to
// MaxCommandLine bytes are returned; the rest is read and discarded.
func (c *Conn) ReadLiteral(n int64) ([]byte, error) {
	keep := min(n, MaxCommandLine)
	b := make([]byte, keep)
	if _, err := io.ReadFull(c.in, b); err != nil {
		return nil, c.gone("read literal", err)
	}
	if _, err := io.CopyN(io.Discard, c.in, n-keep); err != nil {
		return nil, c.gone("read literal", err)
	}
	return b, nil
}

// Continue sends "+ text", the request for a synchronizing literal.
func (c *Conn) Continue(text string) error { return c.Line("+ " + text) }

// Reply sends "tag text", e.g. Reply(cmd.Tag, "OK done").
func (c *Conn) Reply(tag, text string) error { return c.Line(tag + " " + text) }

// Answer gives a plausible, well-behaved answer to cmd: the capabilities
// for CAPABILITY, a small mailbox for SELECT and EXAMINE, BYE (and the end
// of the connection) for LOGOUT, the empty untagged answer that RFC 9051,
// RFC 4731 and RFC 5256 require of SEARCH, SORT and THREAD (and their UID
// forms) when nothing matches, the literal read and OK for a command that
// sends one, and OK for everything else.
func (c *Conn) Answer(cmd *Command) error {
	if cmd.Literal >= 0 {
		if !cmd.NonSync {
			if err := c.Continue("go ahead"); err != nil {
				return err
			}
		}
		if _, err := c.ReadLiteral(cmd.Literal); err != nil {
			return err
		}
		if _, err := c.ReadLine(); err != nil { // the rest of the command
			return err
		}
	}
	switch cmd.Name {
	case "CAPABILITY":
		return c.Lines("* CAPABILITY "+c.Caps, cmd.Tag+" OK CAPABILITY completed")
	case "SELECT", "EXAMINE":
		return c.Lines(
			`* FLAGS (\Answered \Flagged \Deleted \Seen \Draft)`,
			"* 3 EXISTS",
			"* 0 RECENT",
			"* OK [UIDVALIDITY 1] UIDs valid",
			"* OK [UIDNEXT 4] next UID",
			cmd.Tag+" OK [READ-WRITE] "+cmd.Name+" completed")
	case "LOGOUT":
		if err := c.Lines("* BYE logging out", cmd.Tag+" OK LOGOUT completed"); err != nil {
			return err
		}
		return c.Close()
	case "SEARCH", "UID SEARCH", "SORT", "UID SORT", "THREAD", "UID THREAD":
		if err := c.Line(emptySearchAnswer(cmd)); err != nil {
			return err
		}
	}
	return c.Reply(cmd.Tag, "OK "+cmd.Name+" completed")
}

// emptySearchAnswer is the untagged answer of a SEARCH, SORT or THREAD
// (or its UID form) that matched nothing: an ESEARCH naming the command's
// tag when it asked RETURN (RFC 4731, RFC 5267), else "* SEARCH", "* SORT"
// or "* THREAD" alone.
func emptySearchAnswer(cmd *Command) string {
	base := strings.TrimPrefix(cmd.Name, "UID ")
	if base != "THREAD" && strings.HasPrefix(strings.ToUpper(cmd.Args), "RETURN ") {
		l := `* ESEARCH (TAG "` + cmd.Tag + `")`
		if base != cmd.Name {
			l += " UID"
		}
		return l
	}
	return "* " + base
}

// Until answers every command with [Conn.Answer] until one named name
// arrives, and returns that one unanswered.
func (c *Conn) Until(name string) (*Command, error) {
	name = strings.ToUpper(name)
	for {
		cmd, err := c.ReadCommand()
		if err != nil {
			return nil, err
		}
		if cmd.Name == name {
			return cmd, nil
		}
		if err := c.Answer(cmd); err != nil {
			return nil, err
		}
	}
}

// Serve answers every command with [Conn.Answer] until the connection
// ends: the well-behaved rest of a scenario.
func (c *Conn) Serve() error {
	for {
		cmd, err := c.ReadCommand()
		if err != nil {
			return err
		}
		if err := c.Answer(cmd); err != nil {
			return err
		}
		if cmd.Name == "LOGOUT" {
			return nil
		}
	}
}

// Copy writes everything r produces to the client, in chunks of 32 KiB,
// until r ends, the client stops reading and closes, or the server shuts
// down. It returns the bytes written. With an endless r it returns only
// with an error wrapping ErrGone.
func (c *Conn) Copy(r io.Reader) (int64, error) {
	buf := make([]byte, 32<<10)
	var n int64
	for {
		k, rerr := r.Read(buf)
		if k > 0 {
			if err := c.Write(buf[:k]); err != nil {
				return n, err
			}
			n += int64(k)
		}
		if rerr == io.EOF {
			return n, nil
		}
		if rerr != nil {
			return n, rerr
		}
	}
}

// Slowly writes b one byte at a time, pausing every between bytes (a
// slowloris server).
func (c *Conn) Slowly(b []byte, every time.Duration) error {
	for i := range b {
		if err := c.Write(b[i : i+1]); err != nil {
			return err
		}
		if err := c.Sleep(every); err != nil {
			return err
		}
	}
	return nil
}

// SlowlyFrom writes what r produces one byte at a time, pausing every
// between bytes, until r ends or the connection does.
func (c *Conn) SlowlyFrom(r io.Reader, every time.Duration) error {
	var b [1]byte
	for {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		if err := c.Slowly(b[:], every); err != nil {
			return err
		}
	}
}

// Sleep pauses for d, or until the server shuts down (an error wrapping
// ErrGone).
func (c *Conn) Sleep(d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-c.done:
		return c.gone("sleep", net.ErrClosed)
	}
}

// Stall sends nothing more and reads (and discards) whatever the client
// sends, until the client closes the connection (nil) or the server shuts
// down.
func (c *Conn) Stall() error {
	_, err := io.Copy(io.Discard, c.in)
	if c.isDone() {
		return c.gone("stall", net.ErrClosed)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		// A reset, a closed TLS or deflate stream: the client left.
		return nil
	}
	return nil
}

// Close closes the connection (a hang-up; no BYE).
func (c *Conn) Close() error {
	c.closeAll()
	return nil
}

// CloseWrite half-closes the connection when it is TCP (the client reads
// EOF but may still write), and closes it otherwise.
func (c *Conn) CloseWrite() error {
	if tc, ok := c.cur.(interface{ CloseWrite() error }); ok {
		return tc.CloseWrite()
	}
	return c.Close()
}

// StartTLS runs the server side of a TLS handshake on the connection, and
// reads and writes over TLS from then on. Bytes the client sent before the
// handshake and that were read ahead are discarded, as a server must.
func (c *Conn) StartTLS(cfg *tls.Config) error {
	tc := tls.Server(c.raw, cfg)
	if err := tc.Handshake(); err != nil {
		return c.gone("TLS handshake", err)
	}
	c.cur = tc
	c.in = bufio.NewReader(tc)
	return nil
}

// Deflate switches both directions to COMPRESS=DEFLATE (RFC 4978): call
// it right after writing the tagged OK of COMPRESS. Every write is
// flushed, so the client can inflate each response as it arrives.
func (c *Conn) Deflate() error {
	c.in = bufio.NewReader(flate.NewReader(c.in))
	c.zdst = &switchWriter{w: countWriter{c}}
	zw, err := flate.NewWriter(c.zdst, flate.BestCompression)
	if err != nil {
		return err
	}
	c.zw = zw
	c.out = zw
	return nil
}

// switchWriter forwards to w, which can be changed.
type switchWriter struct{ w io.Writer }

func (s *switchWriter) Write(p []byte) (int, error) { return s.w.Write(p) }

// DeflateBomb writes, over the deflate stream started by [Conn.Deflate],
// prefix followed by total bytes made of unit repeated (total < 0:
// endlessly). It compresses one block of about 1 MiB once and then sends
// the same compressed block again and again, so it costs the server about
// one kilobyte per megabyte the client inflates (deflate's ratio is at most
// about 1000:1), and no memory beyond the block. After a bounded bomb the
// stream can go on with ordinary writes.
func (c *Conn) DeflateBomb(prefix, unit []byte, total int64) error {
	if c.zw == nil {
		return errors.New("hostile: DeflateBomb before Deflate")
	}
	if len(unit) == 0 || len(unit) > 1<<20 {
		return errors.New("hostile: DeflateBomb: unit must hold 1 byte to 1 MiB")
	}
	block := bytes.Repeat(unit, (1<<20)/len(unit))
	bs := int64(len(block))
	if err := c.Write(prefix); err != nil {
		return err
	}
	left := total
	endless := total < 0
	// Two blocks through the compressor: the first gives the decoder a
	// window full of the pattern, the second, compressed against such a
	// window, is kept and replayed.
	var kept []byte
	for i := 0; i < 2 && (endless || left >= bs); i++ {
		var buf bytes.Buffer
		if i == 1 {
			c.zdst.w = &buf
		}
		_, err := c.zw.Write(block)
		if err == nil {
			err = c.zw.Flush()
		}
		c.zdst.w = countWriter{c}
		if err != nil {
			return c.gone("write", err)
		}
		if i == 1 {
			kept = buf.Bytes()
			if _, err := (countWriter{c}).Write(kept); err != nil {
				return c.gone("write", err)
			}
		}
		left -= bs
	}
	for kept != nil && (endless || left >= bs) {
		if c.isDone() {
			return c.gone("write", net.ErrClosed)
		}
		if _, err := (countWriter{c}).Write(kept); err != nil {
			return c.gone("write", err)
		}
		left -= bs
	}
	if !endless && left > 0 {
		return c.Write(block[:left])
	}
	return nil
}
