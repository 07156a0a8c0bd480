package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"strings"
	"testing"
)

// zeroed reports whether every byte of arrays (whole, to their capacity)
// is zero.
func zeroed(arrays [][]byte) bool {
	for _, a := range arrays {
		if len(bytes.Trim(a[:cap(a)], "\x00")) > 0 {
			return false
		}
	}
	return true
}

// TestProxyCaptureLeavesNoSecret: captureWriter's copy of a password
// literal (up to 16 KiB, written in parts) is zeroed once recorded, and so
// is every array it outgrew: the Set keeps its own copy, and these were
// left to the garbage collector.
func TestProxyCaptureLeavesNoSecret(t *testing.T) {
	sec := []byte(strings.Repeat("s3cr3t-pw-", 1000))
	var kept []byte
	c := &captureWriter{w: bufio.NewWriter(io.Discard), max: maxRawLine, keep: func(b []byte, open bool) {
		kept = append([]byte(nil), b...)
	}}
	var arrays [][]byte
	for b := sec; len(b) > 0; {
		n := min(len(b), 700)
		c.Write(b[:n])
		b = b[n:]
		arrays = append(arrays, c.buf[:cap(c.buf)])
	}
	c.record()
	if !bytes.Equal(kept, sec) {
		t.Fatalf("captured %d bytes; want the %d-byte literal", len(kept), len(sec))
	}
	if !zeroed(arrays) {
		t.Errorf("a copy of the captured password is left after it was recorded (%d arrays, %d of them not zeroed)", len(arrays), func() (n int) {
			for _, a := range arrays {
				if !zeroed([][]byte{a}) {
					n++
				}
			}
			return
		}())
	}
}

// TestProxyPrinterLeavesNoSecret: a server line that echoes a credential,
// printed and redacted, leaves no byte of it in the arrays the printer
// used: those it outgrew while the line was added, nor the end of the
// line's array past the shorter redacted line (handed on with it).
func TestProxyPrinterLeavesNoSecret(t *testing.T) {
	sec := []byte("correct-horse-battery-staple-\t-0123456789")
	var ss secretSet
	ss.add(sec)
	p := printer{prefix: "[1] S: ", redact: &ss}
	p.begin(false, "")
	var arrays [][]byte
	p.add([]byte("a1 NO "))
	for range 20 {
		p.add([]byte("bad password "))
		p.add(sec)
		arrays = append(arrays, p.buf)
	}
	got := p.end()
	if bytes.Contains(got, []byte("horse")) {
		t.Fatalf("the printed line shows the credential: %q", got)
	}
	for _, a := range arrays {
		if bytes.Contains(a[:cap(a)], []byte("horse")) {
			t.Fatalf("an array of the printer holds the credential's echo after the line was printed: %q", a[:cap(a)])
		}
	}
}

// TestProxyDecodeSecretLeavesNoCopy: a base64 credential (a SASL
// response) is decoded with one allocation, the array handed back (the
// caller zeroes it): DecodeString(string(b)) made two, a string copy of
// the credential among them, left to the garbage collector. The printed
// form of a long credential is made in one array too (each one append
// outgrew held a part of it), without a string a byte escaped.
func TestProxyDecodeSecretLeavesNoCopy(t *testing.T) {
	b := []byte(base64.StdEncoding.EncodeToString([]byte("\x00alice\x00" + strings.Repeat("pw", 500))))
	if n := testing.AllocsPerRun(10, func() { decodeSecret(b) }); n != 1 {
		t.Errorf("decoding a %d-byte SASL response allocates %v times; want once (no copy of the credential but the one zeroed)", len(b), n)
	}
	sec := []byte(strings.Repeat("s3cr3t\t", 1500))
	if n := testing.AllocsPerRun(10, func() { printedForm(sec) }); n != 1 {
		t.Errorf("the printed form of a %d-byte credential allocates %v times; want once (the array zeroed)", len(sec), n)
	}
}
