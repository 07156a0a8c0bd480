package session

import (
	"bytes"
	"compress/flate"
	"reflect"
	"testing"
)

// TestDeflaterWithSecretNotPooled: under COMPRESS a secret written by the
// session (send's password or Secret command, a secret Continue line:
// secretWrite) goes through its deflater, whose window keeps the recent
// plaintext (flate.Writer.Reset does not clear it). An idle session gave
// the deflater back to the process-wide pool as it was (release), so the
// password went to another session's COMPRESS with it. Found by review
// (revA352): the deflater a secret went through is now dropped, not
// pooled; one without a secret still goes back. The session's own write
// path: lazyWriter over countWriter over flushWriter, flushed (giveBack
// zeroes the bufio buffer), then release as unlockWrite calls it.
func TestDeflaterWithSecretNotPooled(t *testing.T) {
	const pw = "corrëct-horse-battery-staple-A3"
	var put []*flate.Writer
	testHookDeflaterPut = func(zw *flate.Writer) { put = append(put, zw) }
	defer func() { testHookDeflaterPut = nil }()
	for level := flate.HuffmanOnly; level <= flate.BestCompression; level++ {
		for _, secret := range []bool{false, true} {
			put = put[:0]
			fw := &flushWriter{w: &sliceWriter{}, level: level}
			s := &Session{}
			s.cw = &countWriter{w: fw}
			s.bw = &lazyWriter{w: s.cw}
			if secret {
				s.secretWrite()
			}
			s.bw.WriteString("a1 LOGIN user {31}\r\n")
			s.bw.WriteString(pw + "\r\n")
			if err := s.bw.Flush(); err != nil {
				t.Fatal(err)
			}
			zw := fw.zw
			fw.release()
			switch {
			case secret && len(put) != 0:
				window := reflect.ValueOf(put[0]).Elem().FieldByName("d").FieldByName("window").Bytes()
				t.Errorf("level %d: the deflater a password went through went back to the pool (its window holds it: %v)", level, bytes.Contains(window, []byte(pw)))
			case !secret && (len(put) != 1 || put[0] != zw):
				t.Errorf("level %d: a deflater no secret went through was not given back to the pool (%d given back)", level, len(put))
			}
			if fw.zw != nil || fw.secret {
				t.Errorf("level %d, secret %v: after release zw = %p, secret = %v; want nil, false", level, secret, fw.zw, fw.secret)
			}
		}
	}
}
