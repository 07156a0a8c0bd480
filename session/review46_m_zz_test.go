package session_test

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// m46ShortConn fails its writes once armed part way, as a TCP write cut
// by a deadline (or a reset) does: all but the last 4 bytes go out, and
// the write returns the count and an error.
type m46ShortConn struct {
	net.Conn
	armed atomic.Bool
}

func (c *m46ShortConn) Write(p []byte) (int, error) {
	if c.armed.Load() && len(p) > 4 {
		n, _ := c.Conn.Write(p[:len(p)-4])
		return n, errors.New("m46: write: connection reset by peer")
	}
	return c.Conn.Write(p)
}

// TestReview46MCompressedTailCutNotWriteCut (found by review): under COMPRESS=DEFLATE
// the last conn write of a command is the deflate block holding its bytes
// and, after it, the 4-byte sync marker (00 00 ff ff) of its Flush. A
// write that fails with only the marker not sent (a partial write: a
// deadline, a reset) leaves the server's inflater with the whole command
// (the data block, up to its end-of-block code, came whole): the server
// has the APPEND, its literal and its CRLF, and runs it. The command's
// error matches ErrWriteCut all the same ("the server did not run it"),
// which the CLI's appender takes for "not appended", and sends again on
// resume: a duplicate. The defaults.
func TestReview46MCompressedTailCutNotWriteCut(t *testing.T) {
	client, server := transport.Pipe()
	fc := &m46ShortConn{Conn: client}
	whole := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer server.Close()
		server.Write([]byte("* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+ COMPRESS=DEFLATE] ready\r\n"))
		var r io.Reader = server
		br := bufio.NewReaderSize(r, 256)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			tag, rest, _ := bytes.Cut([]byte(line), []byte(" "))
			if bytes.HasPrefix(rest, []byte("COMPRESS DEFLATE")) {
				server.Write(append(tag, " OK go\r\n"...))
				br = bufio.NewReaderSize(flate.NewReader(br), 256)
				continue
			}
			if bytes.HasPrefix(rest, []byte("APPEND")) {
				i := bytes.LastIndexByte([]byte(line), '{')
				n, _ := strconv.Atoi(string(bytes.TrimSuffix([]byte(line[i+1:]), []byte("+}\r\n"))))
				if _, err := io.CopyN(io.Discard, br, int64(n)); err != nil {
					return
				}
				if end, err := br.ReadString('\n'); err != nil || end != "\r\n" {
					return
				}
				close(whole) // the server runs it: appended
				io.Copy(io.Discard, br)
				return
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := session.Open(ctx, fc, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close(); server.Close(); <-done }()
	if err := s.Compress(ctx); err != nil {
		t.Fatal(err)
	}
	fc.armed.Store(true)
	msg := bytes.Repeat([]byte("Subject: x\r\n\r\nhello\r\n"), 20)
	_, aerr := commands.New(s).Append(context.Background(), "INBOX", bytes.NewReader(msg), int64(len(msg)), nil)
	if aerr == nil {
		t.Fatal("Append: no error")
	}
	select {
	case <-whole:
	case <-time.After(2 * time.Second):
		t.Fatalf("the server did not get the whole APPEND (%v): the test shows nothing", aerr)
	}
	if errors.Is(aerr, session.ErrWriteCut) {
		t.Fatalf("the server read the whole APPEND (it appended), yet its error matches ErrWriteCut: %v", aerr)
	}
}
