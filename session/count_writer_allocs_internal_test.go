package session

import (
	"errors"
	"io"
	"testing"
)

// TestCountWriterWriteAllocatesNothing: a write that goes through
// (countWriter.Write, under every command's flush and every chunk of an
// APPEND's literal) allocates nothing; the first failed write's error is
// still kept (countWriter.failed).
func TestCountWriterWriteAllocatesNothing(t *testing.T) {
	c := &countWriter{w: io.Discard}
	p := make([]byte, 16<<10)
	if got := testing.AllocsPerRun(100, func() { c.Write(p) }); got != 0 {
		t.Errorf("a write costs %v allocations; want 0", got)
	}
	if c.n.Load() != 101*int64(len(p)) {
		t.Errorf("counted %d bytes; want %d", c.n.Load(), 101*len(p))
	}
	boom := errors.New("boom")
	c.w = failWriter{boom}
	c.Write(p)
	c.w = failWriter{errors.New("later")}
	c.Write(p)
	if e := c.failed.Load(); e == nil || *e != boom {
		t.Errorf("failed = %v; want the first write's error %v", e, boom)
	}
}

// failWriter fails every write with err.
type failWriter struct{ err error }

func (f failWriter) Write([]byte) (int, error) { return 0, f.err }
