package commands_test

import (
	"compress/flate"
	"errors"
	"testing"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/connkit"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// TestCompressLevelDovecot turns COMPRESS=DEFLATE on against Dovecot with
// two levels and sends the same commands: Huffman coding alone (no
// back-references) must cost clearly more bytes on the wire than the best
// compression, which finds each repeated command in its window. An invalid
// level is refused before anything is sent.
func TestCompressLevelDovecot(t *testing.T) {
	srv := dvServer(t)
	ctx := dvCtx(t)
	sent := func(opts *commands.CompressOptions) int64 {
		t.Helper()
		raw, err := transport.Dial(ctx, srv.PlainAddr, nil)
		if err != nil {
			t.Fatal(err)
		}
		conn := &connkit.Counting{Conn: raw}
		c, err := commands.Open(ctx, conn, &auth.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Session().Close()
		if err := c.Login(ctx, testserver.Alice, testserver.Password); err != nil {
			t.Fatal(err)
		}
		if err := c.Compress(ctx, &commands.CompressOptions{Level: 10}); !errors.Is(err, session.ErrCompressLevel) {
			t.Fatalf("level 10: %v", err)
		}
		if err := c.Compress(ctx, opts); err != nil {
			t.Fatalf("COMPRESS %+v: %v", opts, err)
		}
		before := conn.WrittenBytes.Load()
		for i := 0; i < 40; i++ {
			st, err := c.Status(ctx, "INBOX", commands.StatusMessages|commands.StatusUIDNext|commands.StatusUnseen)
			if err != nil || st.Messages != dvSeedCount {
				t.Fatalf("STATUS over COMPRESS: %v %+v", err, st)
			}
		}
		return conn.WrittenBytes.Load() - before
	}
	huffman := sent(&commands.CompressOptions{Level: flate.HuffmanOnly})
	best := sent(&commands.CompressOptions{Level: flate.BestCompression})
	t.Logf("40 STATUS commands: %d bytes Huffman only, %d bytes at level 9", huffman, best)
	if huffman < best*3/2 {
		t.Fatalf("the level does not reach the stream: %d bytes Huffman only, %d at level 9", huffman, best)
	}
}
