package wire_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// FuzzRedacted: Encoded.AppendRedacted (what traces and errors show of a
// command) is exactly the bytes WriteTo sends with each secret argument
// (Password, Secret), literal header and body included, replaced by
// "***"; Secrets lists the password and the secret as given, but an empty
// one (HasSecret tells that a secret argument was written all the same).
func FuzzRedacted(f *testing.F) {
	f.Add("alice", "hunter2", "x", "ir==", byte(0))
	f.Add("bob smith", "pa\r\nss", "Grüße", "", byte(1))
	f.Add("", "a\"b\\c", "{5}", "ab cd", byte(3))
	f.Add("u", strings.Repeat("p", 2000), "\xff", "\x01", byte(4))
	f.Add("0", "", "0", "0", byte(3)) // an empty password: HasSecret, not listed
	f.Fuzz(func(t *testing.T, user, pass, after, ir string, flags byte) {
		const mark = "ZZMARKZZ"
		for _, s := range []string{user, pass, after, ir} {
			if strings.Contains(s, mark) || strings.IndexByte(s, 0) >= 0 {
				return
			}
		}
		opts := &wire.EncoderOptions{LiteralPlus: flags&1 != 0, LiteralMinus: flags&2 != 0, UTF8: flags&4 != 0, MaxQuoted: [4]int{0, 8, -1, 1}[flags>>3&3]}
		build := func(secret bool) (*wire.Encoded, []byte) {
			e := wire.NewEncoder(opts)
			e.Begin("A1").SP().Atom("LOGIN").SP().AString(user).SP()
			if secret {
				e.Password(pass)
			} else {
				e.Atom(mark)
			}
			e.SP().String(after)
			if ir != "" {
				e.SP()
				if secret {
					e.Secret(func(e *wire.Encoder) { e.String(ir) })
				} else {
					e.Atom(mark)
				}
			}
			cmd, err := e.End()
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			var buf bytes.Buffer
			if _, err := cmd.WriteTo(&buf, func() error { return nil }); err != nil {
				t.Fatal(err)
			}
			return cmd, buf.Bytes()
		}
		cmd, _ := build(true)
		red := string(cmd.AppendRedacted(nil))
		secrets := append([]string(nil), cmd.Secrets()...)
		_, plain := build(false)
		want := strings.ReplaceAll(string(plain), mark, "***")
		if red != want {
			t.Fatalf("AppendRedacted = %q; want %q", red, want)
		}
		// An empty value is not listed (nothing to replace), but the
		// command still holds a secret argument (HasSecret).
		if !cmd.HasSecret() {
			t.Fatalf("HasSecret false after Password(%q)", pass)
		}
		i := 0
		if pass != "" {
			if len(secrets) == 0 || secrets[0] != pass {
				t.Fatalf("Secrets = %q; want %q first", secrets, pass)
			}
			i = 1
		}
		if slices.Contains(secrets, "") {
			t.Fatalf("Secrets = %q; want no empty value", secrets)
		}
		if ir != "" && (len(secrets) != i+1 || secrets[i] != ir) {
			// Secret keeps what it wrote, quotes taken off: a quoted
			// string with escapes is not the value given.
			if !strings.ContainsAny(ir, "\"\\\r\n") && wire.StringForm(ir, false, opts) == wire.FormQuoted {
				t.Fatalf("Secrets = %q; want %q after the password", secrets, ir)
			}
		}
	})
}
