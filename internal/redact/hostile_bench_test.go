package redact

import (
	"bytes"
	"encoding/base64"
	"testing"
)

// hostileLines returns the worst lines built for the redaction: 16
// credentials of m bytes and a line of n bytes that a server who knows
// them sends.
func hostileLines(n, m int) []struct {
	name    string
	secrets [][]byte
	line    []byte
} {
	type c = struct {
		name    string
		secrets [][]byte
		line    []byte
	}
	block := []byte("abcdefghijklmnop") // 16 distinct bytes
	var cs []c
	// period16: credentials of a 16-byte period but for their last byte;
	// the line repeats the period: every 16th place is a near match of
	// each credential (bytes.Index of a long needle compares each whole
	// and never falls back to Rabin-Karp).
	var s16 [][]byte
	for i := range 16 {
		s := bytes.Repeat(block, m/16)
		s[len(s)-1] = 'A' + byte(i)
		s16 = append(s16, s)
	}
	cs = append(cs, c{"period16", s16, bytes.Repeat(block, n/16)})
	// runA: credentials of "a" but for their last byte, in a line of
	// "a": every end of the line starts each, and every place is a near
	// match.
	var sa [][]byte
	for i := range 16 {
		s := bytes.Repeat([]byte("a"), m-i)
		s[len(s)-1] = 'A' + byte(i)
		sa = append(sa, s)
	}
	cs = append(cs, c{"runA", sa, bytes.Repeat([]byte("a"), n)})
	// periodicWhole: credentials of period 2 found at every other place.
	var sp [][]byte
	for i := range 16 {
		sp = append(sp, bytes.Repeat([]byte("ab"), m/2-i))
	}
	cs = append(cs, c{"periodicWhole", sp, bytes.Repeat([]byte("ab"), n/2)})
	return cs
}

// BenchmarkHostile measures Redact and RedactCut of the worst lines
// (hostileLines) with 16 credentials of 8 KiB and 32 KiB, in a line of
// the session's capture (64 KiB), and of 8 KiB in the proxy's printed
// window (maxPrinted 4 KiB and the longest form).
func BenchmarkHostile(b *testing.B) {
	for _, size := range []struct {
		name string
		n, m int
	}{{"session8K", capture, 8 << 10}, {"session32K", capture, 32 << 10}, {"proxy8K", 12 << 10, 8 << 10}} {
		for _, c := range hostileLines(size.n, size.m) {
			var x Set
			for _, s := range c.secrets {
				x.Add(s)
			}
			b.Run(size.name+"/"+c.name+"/redact", func(b *testing.B) {
				for b.Loop() {
					x.Redact(c.line)
				}
			})
			b.Run(size.name+"/"+c.name+"/redactCut", func(b *testing.B) {
				for b.Loop() {
					x.RedactCut(c.line)
				}
			})
		}
	}
}

// BenchmarkRedactCutPeriodicSecret measures RedactCut of a hostile line
// cut at the session's capture (64 KiB) that repeats a credential with a
// period ("123123", a common password) beside other credentials (OAuth
// tokens of 1,500 bytes, some opening as the line does; or runs of "a").
// The session's cut used to be pulled back one occurrence at a time, each
// step searching every other credential again: 15tokens123 took about
// 2.2 s a line.
func BenchmarkRedactCutPeriodicSecret(b *testing.B) {
	for _, c := range []struct {
		name     string
		tokens   int
		prefixed bool
	}{{"1token", 1, false}, {"15tokens", 15, false}, {"15tokens123", 15, true}} {
		b.Run(c.name, func(b *testing.B) {
			var x Set
			x.AddString("123123")
			for i := range c.tokens {
				raw := bytes.Repeat([]byte{byte(i + 1), 0x5a, 0x33}, 375)
				tok := base64.StdEncoding.EncodeToString(raw) // 1,500 bytes
				if c.prefixed {
					// Tokens that open as the line does (the server
					// knows every credential it was sent).
					tok = "123123123123" + tok
				}
				x.AddString(tok)
			}
			line := bytes.Repeat([]byte("123"), capture/3)
			for b.Loop() {
				x.RedactCut(line)
			}
		})
	}
	b.Run("aaRuns", func(b *testing.B) {
		x := periodicRuns()
		line := bytes.Repeat([]byte("a"), capture)
		for b.Loop() {
			x.RedactCut(line)
		}
	})
}
