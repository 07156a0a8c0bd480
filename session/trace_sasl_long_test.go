package session_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// saslSecret is a base64 SASL response of n bytes, random (so that no
// part of it is found in the trace by chance).
func saslSecret(n int, seed uint64) string {
	r := rand.New(rand.NewPCG(seed, 57))
	raw := make([]byte, n*3/4+3)
	for i := range raw {
		raw[i] = byte(r.Uint32())
	}
	return base64.StdEncoding.EncodeToString(raw)[:n]
}

// leaked returns the first window of 24 bytes of secret found in out, or "".
func leaked(out, secret string) string {
	const w = 24
	for i := 0; i+w <= len(secret); i += w / 2 {
		if strings.Contains(out, secret[i:i+w]) {
			return secret[i : i+w]
		}
	}
	return ""
}

// TestTraceLongSASLRedacted: a SASL response, as the initial response of
// an AUTHENTICATE (SASL-IR) and as the answer to a challenge, never
// reaches the trace or the slog records, whatever its length (the
// defaults, 20 KiB, 100 KiB), neither as sent nor as the server echoes it,
// in a line it sends in one write or cut across many; nor the history an
// abort carries.
func TestTraceLongSASLRedacted(t *testing.T) {
	for _, n := range []int{64, 20 << 10, 100 << 10} {
		for _, split := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d/split=%v", n, split), func(t *testing.T) {
				ir, resp := saslSecret(n, 1), saslSecret(n, 2)
				conn := fake(t, func(r *bufio.Reader, w io.Writer) {
					echo := func(s string) {
						if !split {
							io.WriteString(w, s)
							return
						}
						for len(s) > 0 {
							k := min(len(s), 1000)
							io.WriteString(w, s[:k])
							s = s[k:]
						}
					}
					io.WriteString(w, "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=X-LONG] hi\r\n")
					l := readLine(r) // AUTHENTICATE PLAIN <ir>
					tag, rest, _ := strings.Cut(l, " ")
					echo("* OK echo " + rest + " end\r\n")
					echo(tag + " NO [ALERT] bad " + rest + "\r\n")
					l = readLine(r) // AUTHENTICATE X-LONG
					tag, _, _ = strings.Cut(l, " ")
					io.WriteString(w, "+ \r\n")
					got := readLine(r)
					echo("* OK echo " + got + " end\r\n")
					echo(tag + " NO bad " + got + "\r\n")
					for {
						l := readLine(r)
						if l == "" {
							return
						}
						io.WriteString(w, "Q999 OK a tag never sent\r\n") // aborts: History

					}
				})
				var trace, logs bytes.Buffer
				var mu sync.Mutex
				opts := &session.Options{
					Trace:  &hsSyncWriter{w: &trace, mu: &mu},
					Logger: slog.New(slog.NewTextHandler(&hsSyncWriter{w: &logs, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug})),
				}
				s := openDefaultsWith(t, conn, opts)
				_, err := s.Run(hangCtx(t), &session.Command{Name: "AUTHENTICATE", Args: func(e *wire.Encoder) {
					e.SP().Atom("PLAIN").SP().Secret(func(e *wire.Encoder) { e.Atom(ir) })
				}})
				if err == nil {
					t.Fatal("AUTHENTICATE PLAIN: no error; want the NO")
				}
				_, err = s.Run(hangCtx(t), &session.Command{Name: "AUTHENTICATE",
					Args:       func(e *wire.Encoder) { e.SP().Atom("X-LONG") },
					OnContinue: func([]byte) ([]byte, error) { return []byte(resp), nil },
				})
				if err == nil {
					t.Fatal("AUTHENTICATE X-LONG: no error; want the NO")
				}
				_, err = s.Run(hangCtx(t), &session.Command{Name: "NOOP"})
				var ae *session.AbortError
				if !errors.As(err, &ae) {
					t.Fatalf("NOOP: %v; want an *AbortError", err)
				}
				history := strings.Join(ae.History, "\n")
				s.Close()
				<-s.Done()
				mu.Lock()
				defer mu.Unlock()
				for _, o := range []struct{ what, out string }{{"trace", trace.String()}, {"slog", logs.String()}, {"abort's History", history}} {
					for _, sec := range []struct{ what, v string }{{"initial response", ir}, {"response", resp}} {
						if w := leaked(o.out, sec.v); w != "" {
							t.Errorf("the %s holds the SASL %s of %d bytes (%q...)", o.what, sec.what, n, w)
							for _, l := range strings.Split(o.out, "\n") {
								if strings.Contains(l, w) {
									t.Logf("  in the line %.120s... (%d bytes)", l, len(l))
								}
							}
						}
					}
				}
			})
		}
	}
}
