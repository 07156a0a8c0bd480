package session

import (
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/imapkit/imapkit/wire"
)

// Compress turns on COMPRESS=DEFLATE (RFC 4978): from the server's OK on,
// both directions are deflate streams. It runs alone, refuses when the
// server lacks the capability or compression is on already, and switches
// the streams on the reader goroutine right after the OK, so that the
// compressed bytes the server sends next are never read as plain text.
//
// With compression on, a read deadline that fires in the middle of the
// stream cannot be resumed (the decompressor keeps the error): an
// StallTimeout then aborts the session as it would anyway.
func (s *Session) Compress(ctx context.Context) error {
	return s.CompressLevel(ctx, flate.DefaultCompression)
}

// ErrCompressLevel is returned by CompressLevel, before anything is sent,
// for a level compress/flate does not know.
var ErrCompressLevel = errors.New("session: invalid compression level")

// CompressLevel is Compress with the level of the client's deflate stream:
// a compress/flate level, from flate.HuffmanOnly (-2) and
// flate.DefaultCompression (-1) to flate.BestCompression (9). The level
// trades the client's CPU for the bytes of the commands it sends; what the
// server sends is compressed as the server chooses. A level out of that
// range is an error matching ErrCompressLevel, and nothing is sent.
func (s *Session) CompressLevel(ctx context.Context, level int) error {
	if level < flate.HuffmanOnly || level > flate.BestCompression {
		return fmt.Errorf("%w: %d (want %d to %d)", ErrCompressLevel, level, flate.HuffmanOnly, flate.BestCompression)
	}
	s.mu.Lock()
	on := s.compressed
	s.mu.Unlock()
	if on {
		return ErrCompressActive
	}
	if !s.HasCap("COMPRESS=DEFLATE") {
		return ErrCompressUnavailable
	}
	cmd := &Command{Name: "COMPRESS", Args: func(e *wire.Encoder) { e.SP().Atom("DEFLATE") }}
	p, err := s.register(ctx, cmd, false)
	if err != nil {
		return err
	}
	p.upgrade = func() error {
		// Runs on the reader goroutine: nothing else reads, and nothing
		// writes (COMPRESS runs alone).
		rest := append(s.tok.Detach(), s.pr.take()...)
		raw := s.conn
		zr := flate.NewReader(io.MultiReader(bytes.NewReader(rest), raw))
		zw, err := flate.NewWriter(s.tr.writer(raw), level)
		if err != nil {
			return err
		}
		s.wmu.Lock()
		s.tok.Reset(s.pr.reset(s.tr.reader(zr)))
		// From here the tracer counts inflated bytes: in the tokenizer's
		// offsets, which continue from what it consumed.
		s.tr.delivered.Store(s.tok.Offset())
		s.cw.w = &flushWriter{zw: zw}
		s.wmu.Unlock()
		s.mu.Lock()
		s.compressed = true
		s.mu.Unlock()
		return nil
	}
	if err := s.send(ctx, p, true); err != nil {
		return err
	}
	_, err = p.Wait(ctx)
	return err
}

// flushWriter compresses each write and flushes it at once: the session
// writes whole commands, and the server must see each one without waiting
// for more.
type flushWriter struct {
	zw *flate.Writer
}

func (f *flushWriter) Write(p []byte) (int, error) {
	n, err := f.zw.Write(p)
	if err == nil {
		err = f.zw.Flush()
	}
	return n, err
}
