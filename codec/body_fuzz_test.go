package codec

import (
	"bytes"
	"io"
	"testing"
	"testing/iotest"
)

// FuzzDecodeBody decodes any bytes in each transfer encoding and then in a
// few charsets: no panic, the same result whether the source gives its
// bytes whole or one at a time, and output bounded by the input (a
// transfer encoding never grows its data; a charset at most triples it,
// one U+FFFD per byte).
func FuzzDecodeBody(f *testing.F) {
	for _, s := range []string{
		"QUJD\r\nREVG", "QUJDREU", "QQ==QQ==", "caf=E9=\r\n", "a=4x=41=4", "soft= \t\r\nx",
		"trailing  \r\n", "=", "= ", "==41", "\xff\xfe", "\x1b$B$3$s\x1b(B",
	} {
		f.Add(uint8(0), uint8(0), []byte(s))
		f.Add(uint8(1), uint8(3), []byte(s))
	}
	encs := []string{"base64", "quoted-printable", "8bit"}
	charsets := []string{"utf-8", "iso-8859-1", "shift_jis", "iso-2022-jp", "gb18030", "utf-16"}
	f.Fuzz(func(t *testing.T, e, c uint8, data []byte) {
		enc, cs := encs[int(e)%len(encs)], charsets[int(c)%len(charsets)]
		// read decodes all of data, whole or a byte at a time.
		read := func(dec func(io.Reader) (io.Reader, error), data []byte, bytewise bool) []byte {
			var r io.Reader = bytes.NewReader(data)
			if bytewise {
				r = iotest.OneByteReader(r)
			}
			d, err := dec(r)
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(d)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		transfer := func(r io.Reader) (io.Reader, error) { return DecodeTransfer(enc, r) }
		charset := func(r io.Reader) (io.Reader, error) { return DecodeCharset(cs, r) }
		whole := read(transfer, data, false)
		if !bytes.Equal(whole, read(transfer, data, true)) {
			t.Fatalf("%s: reads of one byte give another result", enc)
		}
		if len(whole) > len(data) {
			t.Fatalf("%s: %d bytes out of %d", enc, len(whole), len(data))
		}
		u := read(charset, whole, false)
		if !bytes.Equal(u, read(charset, whole, true)) {
			t.Fatalf("%s: reads of one byte give another result", cs)
		}
		if len(u) > 3*len(whole)+3 {
			t.Fatalf("%s: %d bytes out of %d", cs, len(u), len(whole))
		}
	})
}
