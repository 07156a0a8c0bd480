package auth

import (
	"bytes"
	"testing"
)

// FuzzSCRAMServerMessage feeds arbitrary server messages to the SCRAM
// parsers and to a client in the middle of an exchange: nothing may
// panic, an accepted server-first-message must satisfy the RFC 5802
// rules the client relies on, and only the right signature may verify.
func FuzzSCRAMServerMessage(f *testing.F) {
	f.Add([]byte("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096"))
	f.Add([]byte("v=rmF9pqV8S7suAoZWja4dJRkFsKQ="))
	f.Add([]byte("e=invalid-proof"))
	f.Add([]byte("m=ext,r=a,s=QSXCR+Q6sek8bf92,i=1"))
	f.Add([]byte("r=fyko+d2lbbFgONRv9qkxdawLx,s=,i=1"))
	f.Add([]byte("r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=-1"))
	f.Add([]byte("r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=2,x=ext"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		if sf, err := parseServerFirst(msg); err == nil {
			if sf.iterations < minSCRAMIterations || sf.iterations > maxSCRAMIterations || !printable(sf.nonce) || sf.nonce == "" {
				t.Fatalf("accepted %q as %+v", msg, sf)
			}
		}
		if sig, err := parseServerFinal(msg); err == nil && len(sig) == 0 {
			t.Fatalf("accepted %q with an empty signature", msg)
		}
		c := NewSCRAMSHA1("", "user", "pencil").(*scramClient)
		c.nonce = "fyko+d2lbbFgONRv9qkxdawL"
		c.Start()
		sf, err := parseServerFirst(msg)
		if err == nil && sf.iterations > minSCRAMIterations {
			return // keep each run fast
		}
		if resp, err := c.Next(msg); err == nil {
			if !bytes.HasPrefix(resp, []byte("c=biws,r=fyko+d2lbbFgONRv9qkxdawL")) {
				t.Fatalf("client-final %q", resp)
			}
			// A random server-final must not verify.
			if _, err := c.Next(msg); err == nil && !bytes.HasPrefix(msg, []byte("v=")) {
				t.Fatalf("%q verified as a server signature", msg)
			}
		}
	})
}
