// Command contender-raw is the raw drain client of the end-to-end
// comparison (bench/cmd/compare): it logs in, EXAMINEs the mailbox, sends
// the job's FETCH and reads the answer into a 64 KiB buffer until the
// tagged OK, parsing nothing. It is the floor every client is compared
// with. Its report counts all the bytes of the FETCH answer.
package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/imapkit/imapkit/bench/internal/contender"
)

func main() {
	cfg := contender.Parse()
	if cfg.Job != contender.JobMeta && cfg.Job != contender.JobBody {
		contender.Fail(fmt.Errorf("job %q not supported", cfg.Job))
	}
	d := &net.Dialer{Deadline: time.Now().Add(cfg.Timeout)}
	var conn net.Conn
	var err error
	if cfg.TLS {
		tc, terr := cfg.TLSConfig()
		if terr != nil {
			contender.Fail(terr)
		}
		conn, err = tls.DialWithDialer(d, "tcp", cfg.Addr, tc)
	} else {
		conn, err = d.Dial("tcp", cfg.Addr)
	}
	if err != nil {
		contender.Fail(err)
	}
	conn.SetDeadline(d.Deadline)
	r, err := run(conn, cfg)
	if err != nil {
		contender.Fail(err)
	}
	contender.Emit(r)
}

func run(conn net.Conn, cfg *contender.Config) (contender.Report, error) {
	var r contender.Report
	br := bufio.NewReader(conn)
	line := func() (string, error) {
		s, err := br.ReadString('\n')
		return strings.TrimRight(s, "\r\n"), err
	}
	// expect reads lines up to the tagged answer of tag and fails unless it
	// is OK. The LOGIN and EXAMINE answers carry no literals.
	expect := func(tag string) error {
		for {
			s, err := line()
			if err != nil {
				return err
			}
			if strings.HasPrefix(s, tag+" ") {
				if !strings.HasPrefix(s, tag+" OK") {
					return fmt.Errorf("%s", s)
				}
				return nil
			}
		}
	}
	if _, err := line(); err != nil { // the greeting
		return r, err
	}
	if _, err := fmt.Fprintf(conn, "a LOGIN %s \"%s\"\r\n", cfg.User, cfg.Pass); err != nil {
		return r, err
	}
	if err := expect("a"); err != nil {
		return r, fmt.Errorf("LOGIN: %w", err)
	}
	if _, err := fmt.Fprintf(conn, "b EXAMINE \"%s\"\r\n", cfg.Mailbox); err != nil {
		return r, err
	}
	if err := expect("b"); err != nil {
		return r, fmt.Errorf("EXAMINE: %w", err)
	}
	items := "UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE"
	if cfg.Job == contender.JobBody {
		items = "UID BODY.PEEK[]"
	}
	if _, err := fmt.Fprintf(conn, "c FETCH 1:* (%s)\r\n", items); err != nil {
		return r, err
	}
	// Drain: the answer ends with "\r\nc OK ". The end is looked for in
	// each read and across the seam with the previous one (prev holds the
	// last len(end)-1 bytes seen). The bufio.Reader may hold the first
	// bytes already.
	end := []byte("\r\nc OK ")
	k := len(end) - 1
	buf := make([]byte, 64<<10)
	prev := make([]byte, 0, 2*k)
	for {
		n, err := br.Read(buf)
		r.Bytes += int64(n)
		chunk := buf[:n]
		seam := append(prev, chunk[:min(n, k)]...)
		if bytes.Contains(seam, end) || bytes.Contains(chunk, end) {
			break
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return r, err
		}
		if n >= k {
			prev = append(prev[:0], chunk[n-k:]...)
		} else {
			prev = append(prev[:0], seam[max(0, len(seam)-k):]...)
		}
	}
	_, err := fmt.Fprintf(conn, "d LOGOUT\r\n")
	return r, err
}
