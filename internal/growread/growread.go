// Package growread reads a body whose size a peer announced into memory
// that grows as its bytes arrive, so that an announced size alone (a
// server's literal header followed by a hang-up or a stall) allocates
// little. session (collected body sections) and commands (sections a
// Fetch keeps whole) share it.
package growread

import "io"

// Ahead is the most Read allocates before any of the bytes arrive.
const Ahead = 1 << 20

// Read reads exactly size bytes of r into a new buffer of that size and
// returns it, or r's error: io.ErrUnexpectedEOF for a body that ends
// short (io.EOF only when none of it came, as io.ReadFull). The buffer starts at min(size, Ahead) bytes and doubles
// as the bytes come, never more than twice what came (up to about three
// times size allocated in all for a large body). A body of at most Ahead
// bytes is read into one buffer of its size.
func Read(r io.Reader, size int64) ([]byte, error) {
	b := make([]byte, min(size, Ahead))
	for got := 0; ; {
		n, err := io.ReadFull(r, b[got:])
		if got += n; err != nil {
			if err == io.EOF && got > 0 {
				// Ended at a buffer's boundary: short, as
				// io.ReadFull says of a body cut inside its buffer.
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if int64(got) == size {
			return b, nil
		}
		nb := make([]byte, min(size, 2*int64(len(b))))
		copy(nb, b)
		b = nb
	}
}
