package session_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/connkit"
	"github.com/imapkit/imapkit/internal/corpus"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// Benchmarks of the metadata FETCH over TCP loopback, in plain and over
// TLS (a crypto/tls server in the test, with a certificate generated for
// 127.0.0.1), through the session and as a raw drain of the same bytes (the
// ceiling: read and discard). They answer issue 13's TLS question: where a
// client's CPU goes on that job. Profile with
//
//	go test -run '^$' -bench 'FetchMetadata(TLS|TCP)' -benchmem -cpuprofile cpu.out ./session/
//
// The server runs in the same process, so its encryption shows in the
// profile too: look at the client's side (tls.(*Conn).Read and below,
// session, wire, codec).

// bnTLSConfig returns a server configuration with a fresh certificate for
// 127.0.0.1 and a client configuration that trusts it.
func bnTLSConfig(tb testing.TB) (server, client *tls.Config) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "imapkit bench"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}}}
	client = &tls.Config{RootCAs: pool}
	return server, client
}

// bnFetchListener serves, on a loopback listener (TLS when cfg is not
// nil), a PREAUTH greeting, then the metadata stream of n messages and a
// tagged OK for every command line it reads. It writes the stream in
// writes of chunk bytes (0: one write); over TLS each write ends a record
// (crypto/tls makes records of up to 16 KiB), as a server that flushes
// often (after each message, or each small buffer) would. It returns the
// address.
func bnFetchListener(tb testing.TB, n, chunk int, cfg *tls.Config) string {
	data := corpus.FetchMetadata(n)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	if cfg != nil {
		ln = tls.NewListener(ln, cfg)
	}
	var wg sync.WaitGroup
	tb.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				conn.Write([]byte("* PREAUTH [CAPABILITY IMAP4rev1] ready\r\n"))
				r := bufio.NewReader(conn)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					tag, _, _ := strings.Cut(line, " ")
					for rest := data; len(rest) > 0; {
						k := len(rest)
						if chunk > 0 && k > chunk {
							k = chunk
						}
						if _, err := conn.Write(rest[:k]); err != nil {
							return
						}
						rest = rest[k:]
					}
					if _, err := conn.Write([]byte(tag + " OK FETCH completed\r\n")); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// bnDial connects to addr, over TLS when cfg is not nil.
func bnDial(tb testing.TB, addr string, cfg *tls.Config) net.Conn {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var conn net.Conn
	var err error
	if cfg != nil {
		conn, err = transport.DialTLS(ctx, addr, cfg, nil)
	} else {
		conn, err = transport.Dial(ctx, addr, nil)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return conn
}

func benchFetchMetadataNet(b *testing.B, useTLS bool, chunk int) {
	const n = 10000
	var srv, cli *tls.Config
	if useTLS {
		srv, cli = bnTLSConfig(b)
	}
	addr := bnFetchListener(b, n, chunk, srv)
	cc := &connkit.Counting{Conn: bnDial(b, addr, cli)}
	s, err := session.Open(context.Background(), cc, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	cmd := &session.Command{Name: "FETCH", AnyState: true, Pull: true, Args: func(e *wire.Encoder) {
		e.SP().Raw("1:*").SP().Raw("(UID FLAGS ENVELOPE BODYSTRUCTURE)")
	}}
	b.SetBytes(int64(len(corpus.FetchMetadata(n))))
	b.ReportAllocs()
	b.ResetTimer()
	cc.Reads.Store(0)
	cc.ReadBytes.Store(0)
	for i := 0; i < b.N; i++ {
		pullAll(b, s, ctx, cmd, n)
	}
	b.ReportMetric(float64(cc.Reads.Load())/float64(b.N), "reads/op")
	b.ReportMetric(float64(cc.ReadBytes.Load())/float64(cc.Reads.Load()), "B/read")
}

// benchFetchMetadataRaw drains the same bytes with reads of the
// tokenizer's buffer size, parsing nothing: the ceiling.
func benchFetchMetadataRaw(b *testing.B, useTLS bool, chunk int) {
	const n = 10000
	var srv, cli *tls.Config
	if useTLS {
		srv, cli = bnTLSConfig(b)
	}
	addr := bnFetchListener(b, n, chunk, srv)
	conn := bnDial(b, addr, cli)
	defer conn.Close()
	buf := make([]byte, wire.DefaultBufferSize)
	greeting := len("* PREAUTH [CAPABILITY IMAP4rev1] ready\r\n")
	if _, err := io.ReadFull(conn, buf[:greeting]); err != nil {
		b.Fatal(err)
	}
	total := int64(len(corpus.FetchMetadata(n)) + len("A1 OK FETCH completed\r\n"))
	b.SetBytes(int64(len(corpus.FetchMetadata(n))))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := conn.Write([]byte("A1 FETCH 1:* (UID FLAGS ENVELOPE BODYSTRUCTURE)\r\n")); err != nil {
			b.Fatal(err)
		}
		var got int64
		for got < total {
			k, err := conn.Read(buf)
			if err != nil {
				b.Fatal(err)
			}
			got += int64(k)
		}
	}
}

// bnChunks are the server's write sizes: one write (16 KiB TLS records),
// 4 KiB and 1 KiB (a record per message or so).
var bnChunks = []struct {
	name string
	size int
}{{"write=all", 0}, {"write=4K", 4 << 10}, {"write=1K", 1 << 10}}

// BenchmarkFetchMetadataTLS: the 10,000-message metadata stream through the
// session over TLS on loopback, pulled with Next.
func BenchmarkFetchMetadataTLS(b *testing.B) {
	for _, c := range bnChunks {
		b.Run(c.name, func(b *testing.B) { benchFetchMetadataNet(b, true, c.size) })
	}
}

// BenchmarkFetchMetadataTLSRaw: the same bytes over TLS, read and
// discarded.
func BenchmarkFetchMetadataTLSRaw(b *testing.B) {
	for _, c := range bnChunks {
		b.Run(c.name, func(b *testing.B) { benchFetchMetadataRaw(b, true, c.size) })
	}
}

// BenchmarkFetchMetadataTCP: the metadata stream through the session over
// plain TCP on loopback.
func BenchmarkFetchMetadataTCP(b *testing.B) { benchFetchMetadataNet(b, false, 0) }

// BenchmarkFetchMetadataTCPRaw: the same bytes over plain TCP, read and
// discarded.
func BenchmarkFetchMetadataTCPRaw(b *testing.B) { benchFetchMetadataRaw(b, false, 0) }

// bnMetaMailbox is a mailbox of alice with 2,000 generated messages, made
// once, for the Dovecot metadata benchmarks.
var (
	bnMetaOnce sync.Once
	bnMetaErr  error
)

const bnMetaMailbox = "bench-meta-2000"

// benchFetchMetadataDovecot fetches the metadata of 2,000 messages from
// the project's Dovecot, over its implicit-TLS port or its plain one, and
// reports the client's reads: how Dovecot sizes what it sends (TLS
// records) decides how many reads, and so how much per-read cost, a
// client pays.
func benchFetchMetadataDovecot(b *testing.B, useTLS bool) {
	srv := dvServer(b)
	bnMetaOnce.Do(func() {
		bnMetaErr = srv.SeedMailbox(testserver.Alice, bnMetaMailbox, testserver.SampleMessages(2000))
	})
	if bnMetaErr != nil {
		b.Fatal(bnMetaErr)
	}
	var conn net.Conn
	if useTLS {
		conn = bnDial(b, srv.TLSAddr, srv.TLSConfig())
	} else {
		conn = bnDial(b, srv.PlainAddr, nil)
	}
	cc := &connkit.Counting{Conn: conn}
	s, err := session.Open(context.Background(), cc, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	dvLogin(b, s, testserver.Alice, testserver.Password)
	dvRun(b, s, dvMailboxCmd("EXAMINE", bnMetaMailbox))
	ctx := context.Background()
	cmd := &session.Command{Name: "FETCH", Pull: true, Args: dvRaw("1:* (UID FLAGS ENVELOPE BODYSTRUCTURE)")}
	b.ReportAllocs()
	b.ResetTimer()
	cc.Reads.Store(0)
	cc.ReadBytes.Store(0)
	cpu0 := bnCPU(b)
	for i := 0; i < b.N; i++ {
		pullAll(b, s, ctx, cmd, 2000)
	}
	b.ReportMetric(float64(bnCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
	b.SetBytes(cc.ReadBytes.Load() / int64(b.N))
	b.ReportMetric(float64(cc.Reads.Load())/float64(b.N), "reads/op")
	b.ReportMetric(float64(cc.ReadBytes.Load())/float64(cc.Reads.Load()), "B/read")
}

// BenchmarkFetchMetadataDovecotTLS: the metadata of 2,000 messages from
// Dovecot over implicit TLS.
func BenchmarkFetchMetadataDovecotTLS(b *testing.B) { benchFetchMetadataDovecot(b, true) }

// BenchmarkFetchMetadataDovecotTCP: the same over Dovecot's plain port.
func BenchmarkFetchMetadataDovecotTCP(b *testing.B) { benchFetchMetadataDovecot(b, false) }
