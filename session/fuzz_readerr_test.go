package session_test

import (
	"errors"
	"net"
	"sync/atomic"
	"testing"

	"github.com/imapkit/imapkit/internal/fuzzseed"
	"github.com/imapkit/imapkit/session"
)

// The session fuzz targets end every exec with the server's hang-up, an
// EOF. A connection can also fail in the middle of a response with
// another error (reset by the peer, a broken TLS record, a stall timeout).
// Stop 22's spinning reader needed exactly that: the decoder looked again
// at a space whose read had failed, and read for ever; the EOF-ending
// targets never found it. FuzzSessionReadError and FuzzSessionPullReadError
// run the execs of FuzzSession and FuzzSessionPull over a connection
// whose reads fail, from a fuzzed point on, with errFzReset (not a
// timeout: nothing should read again after it).
//
// Invariants, beyond those of the two targets: every command ends within
// their bound (a spinning reader is a hang); at most fzMaxFailedReads reads
// fail (the session keeps the first failure and never reads again; it read
// three times before, once beside a streamed body section).
// TestFuzzSessionReadErrorControl checks that the commands cut off end
// with the read's error.

// errFzReset is the error of every read past the cut.
var errFzReset = fuzzseed.ErrReset

// fzMaxFailedReads bounds the reads that fail in one exec: the session
// never reads a connection again after a read failed (peekReader.broken).
const fzMaxFailedReads = 1

// FuzzSessionReadError is FuzzSession over a connection whose reads fail
// after the greeting and cut bytes of the input.
func FuzzSessionReadError(f *testing.F) {
	fzReadErrorSeeds(f)
	var execs atomic.Int64
	var heap0 atomic.Uint64
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		fzExec(t, data, int(cut)%(len(data)+1))
		if n := execs.Add(1); n%fzMemEvery == 1 {
			fzCheckHeap(t, &heap0)
		}
	})
}

// FuzzSessionPullReadError is FuzzSessionPull over a connection whose
// reads fail after the greeting and cut bytes of the input (the reads of
// the commands sent after the input included).
func FuzzSessionPullReadError(f *testing.F) {
	fzReadErrorSeeds(f)
	f.Add([]byte(fzPullControl), uint16(70000%65536))
	var execs atomic.Int64
	var heap0 atomic.Uint64
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		fzPullExec(t, data, fzPullQuiet, int(cut))
		if n := execs.Add(1); n%fzMemEvery == 1 {
			fzCheckHeap(t, &heap0)
		}
	})
}

// fzReadErrorSeeds adds the hostile scenarios cut in their middle and at
// their end, and stop 22's spinning input.
func fzReadErrorSeeds(f *testing.F) {
	for _, h := range fuzzseed.Hostile() {
		f.Add(h.Data, uint16(len(h.Data)/2))
		f.Add(h.Data, uint16(len(h.Data)))
	}
	spin := []byte("* 1 FETCH (XFOO (a ")
	f.Add(spin, uint16(len(spin)))
	f.Add(append(spin, "b c)) UID 1)\r\n"+fuzzseed.Complete...), uint16(len(spin)))
}

// fzCut returns c, or with cut >= 0 a fuzzseed.CutConn over c whose reads
// fail once the greeting and cut more bytes were read; check fails the
// exec when too many reads failed.
func fzCut(c net.Conn, cut int) (net.Conn, fzCutConn) {
	if cut < 0 {
		return c, fzCutConn{}
	}
	cc := fuzzseed.Cut(c, int64(len(fzGreeting)+cut))
	return cc, fzCutConn{cc}
}

// fzCutConn checks the reads of a cut connection (none: nothing to check).
type fzCutConn struct{ c *fuzzseed.CutConn }

// check fails the exec when more than fzMaxFailedReads reads failed.
func (c fzCutConn) check(t *testing.T) {
	if c.c == nil {
		return
	}
	if n := c.c.Failed(); n > fzMaxFailedReads {
		t.Errorf("%d reads failed after the cut; want at most %d (the session read again after a failed read)", n, fzMaxFailedReads)
	}
}

// TestFuzzSessionReadErrorControl checks the harness: a well-formed
// exchange cut before the completions ends every command that was not
// answered with an error that wraps errFzReset, with one failed read, in
// both harnesses.
func TestFuzzSessionReadErrorControl(t *testing.T) {
	in := "* 1 FETCH (UID 1 FLAGS (\\Seen) BODY[] {5}\r\nhello)\r\n" + fuzzseed.Complete
	var reset int
	for _, err := range fzExec(t, []byte(in), len("* 1 FETCH (UID 1 FLAGS")) {
		if errors.Is(err, errFzReset) {
			reset++
		}
		var ae *session.AbortError
		if err != nil && !errors.As(err, &ae) {
			t.Errorf("a command ended with %v; want an *AbortError", err)
		}
	}
	if reset == 0 {
		t.Error("no command ended with the read's error")
	}
	_, errs := fzPullExec(t, []byte(fzPullControl), fzPullQuiet, 100)
	if !errors.Is(errs[0], errFzReset) {
		t.Errorf("A1 ended with %v; want the read's error", errs[0])
	}
}
