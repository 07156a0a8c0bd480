package session_test

import (
	"bufio"
	"compress/flate"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// BenchmarkPullNextCompress pulls a UID FETCH of 2000 small
// responses (UID and FLAGS) under COMPRESS with Next, with
// context.Background() and with a context that can end: the cost of what
// a caller whose context can end does for the reads it needs (the reader
// goroutine's, or the inflater's worker). The server sends the answer in
// flushes of 50 responses, so that reads wait for the network.
func BenchmarkPullNextCompress(b *testing.B) {
	const n = 2000
	for _, cancelable := range []bool{false, true} {
		b.Run(fmt.Sprintf("Cancelable=%v", cancelable), func(b *testing.B) {
			client, server := transport.Pipe()
			done := make(chan struct{})
			go func() {
				defer close(done)
				defer server.Close()
				br := bufio.NewReader(server)
				io.WriteString(server, "* PREAUTH [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] hi\r\n")
				tag, _, _ := strings.Cut(readLine(br), " ")
				io.WriteString(server, tag+" OK deflating\r\n")
				br = bufio.NewReader(flate.NewReader(br))
				zw, _ := flate.NewWriter(server, flate.BestSpeed)
				var sb strings.Builder
				for {
					l := readLine(br)
					if l == "" {
						return
					}
					tag, _, _ := strings.Cut(l, " ")
					if strings.Contains(l, "FETCH") {
						for i := 1; i <= n; i++ {
							fmt.Fprintf(&sb, "* %d FETCH (UID %d FLAGS (\\Seen))\r\n", i, i)
							if i%50 == 0 {
								io.WriteString(zw, sb.String())
								zw.Flush()
								sb.Reset()
							}
						}
					}
					io.WriteString(zw, tag+" OK done\r\n")
					zw.Flush()
				}
			}()
			defer func() { client.Close(); server.Close(); <-done }()
			s, err := session.Open(context.Background(), client, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			if err := s.Compress(context.Background()); err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			if cancelable {
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				defer cancel()
			}
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				p, err := s.Start(ctx, pullUIDFetch("(UID FLAGS)"))
				if err != nil {
					b.Fatal(err)
				}
				got := 0
				for {
					_, err := p.Next(ctx)
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					got++
				}
				if got != n {
					b.Fatalf("%d responses; want %d", got, n)
				}
				if _, err := p.Wait(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
