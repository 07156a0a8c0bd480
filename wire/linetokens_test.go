package wire_test

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// appendFunc is AppendLine or AppendUntilLiteral.
type appendFunc func(tk *wire.Tokenizer, dst []wire.Token) ([]wire.Token, error)

var appendFuncs = map[string]appendFunc{
	"AppendLine":         (*wire.Tokenizer).AppendLine,
	"AppendUntilLiteral": (*wire.Tokenizer).AppendUntilLiteral,
}

// manyTokensLine is "a1 NOOP 1 1 1 ...\r\n" of n " 1"s: 2n+4 tokens.
func manyTokensLine(n int) string {
	return "a1 NOOP" + strings.Repeat(" 1", n) + "\r\n"
}

// checkManyTokens checks the tokens of manyTokensLine, the ones at
// positions [at, at+len(toks)) of the line.
func checkManyTokens(t *testing.T, toks []wire.Token, at int) {
	t.Helper()
	for i, tok := range toks {
		var want wire.Kind
		switch p := at + i; {
		case p == 0, p == 2:
			want = wire.KindAtom
		case p%2 == 1:
			want = wire.KindSP
		default:
			want = wire.KindNumber
		}
		if tok.Kind != want && !(tok.Kind == wire.KindCRLF && i == len(toks)-1) {
			t.Fatalf("token %d of the line: %v; want %v", at+i, tok.Kind, want)
		}
	}
}

// TestAppendLineTokenBound: with the defaults, a line of MaxLineLength
// bytes of " 1" (a million tokens, 48 MiB of Tokens) takes calls of at
// most DefaultMaxLineTokens tokens each, ErrTooManyTokens (a *LimitError)
// between them, and the calls together give every token of the line, its
// CRLF last; the bytes forwarded between the calls are the line's, and the
// next line reads as usual. The heap the caller keeps (its slice, reused)
// stays a few MiB, and what the calls allocate a few tens (without the
// bound: 52 MiB kept, 258 MiB allocated).
func TestAppendLineTokenBound(t *testing.T) {
	n := (wire.DefaultMaxLineLength - 16) / 2
	in := manyTokensLine(n) + "a2 NOOP\r\n"
	for name, appendf := range appendFuncs {
		t.Run(name, func(t *testing.T) {
			var fwd bytes.Buffer
			fwd.Grow(len(in))
			tk := wire.NewTokenizer(strings.NewReader(in), nil)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			var toks []wire.Token
			total, calls := 0, 0
			for {
				var err error
				toks, err = appendf(tk, toks[:0])
				calls++
				if len(toks) > wire.DefaultMaxLineTokens {
					t.Fatalf("call %d appended %d tokens; the bound is %d", calls, len(toks), wire.DefaultMaxLineTokens)
				}
				checkManyTokens(t, toks, total)
				total += len(toks)
				if _, ferr := tk.Forward(&fwd); ferr != nil {
					t.Fatalf("Forward after call %d: %v", calls, ferr)
				}
				if err == nil {
					break
				}
				var le *wire.LimitError
				if !errors.Is(err, wire.ErrTooManyTokens) || !errors.As(err, &le) {
					t.Fatalf("call %d: %v; want a *LimitError matching ErrTooManyTokens", calls, err)
				}
				if le.Limit != wire.DefaultMaxLineTokens || len(toks) != wire.DefaultMaxLineTokens {
					t.Fatalf("call %d: %d tokens, %+v; want %d", calls, len(toks), le, wire.DefaultMaxLineTokens)
				}
				if calls > 2*n/wire.DefaultMaxLineTokens+2 {
					t.Fatalf("%d calls and the line goes on", calls)
				}
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			kept := int64(after.HeapAlloc) - int64(before.HeapAlloc)
			allocated := after.TotalAlloc - before.TotalAlloc
			t.Logf("%d-byte line: %d calls, %d tokens, cap %d; heap kept %.1f MiB, allocated %.1f MiB",
				len(in), calls, total, cap(toks), float64(kept)/(1<<20), float64(allocated)/(1<<20))
			if toks[len(toks)-1].Kind != wire.KindCRLF || total != 2*n+4 {
				t.Fatalf("%d tokens ending with %v; want %d ending with CRLF", total, toks[len(toks)-1].Kind, 2*n+4)
			}
			// Kept: the tokenizer's buffer (the 1 MiB line) and the
			// caller's slice (3 to 3.75 MiB), 4.5 MiB. Allocated: 2 MiB
			// by the tokenizer, and append's growth of the slice from nil
			// to its cap by a quarter at a time, about five times the
			// cap: 19 MiB, once (a reused slice does not grow again).
			if kept > 8<<20 || allocated > 32<<20 {
				t.Errorf("a line within MaxLineLength: heap kept %d MiB, allocated %d MiB; want at most 8 and 32", kept>>20, allocated>>20)
			}
			if calls < 2 {
				t.Fatalf("the line of %d tokens took one call", total)
			}
			if want := manyTokensLine(n); fwd.String() != want {
				t.Fatalf("forwarded %d bytes; want the line's %d", fwd.Len(), len(want))
			}
			toks, err := appendf(tk, toks[:0])
			if err != nil || len(toks) != 4 || string(toks[0].Bytes()) != "a2" || toks[3].Kind != wire.KindCRLF {
				t.Fatalf("the next line: %d tokens, %v", len(toks), err)
			}
			runtime.KeepAlive(toks)
		})
	}
}

// TestAppendLineTokenBoundEdge: a line of exactly DefaultMaxLineTokens
// tokens takes one call without error; one token more (a trailing space,
// then its CRLF) takes a second call for the CRLF. A line under the bound is unaffected, and so is one after
// a call that met it.
func TestAppendLineTokenBoundEdge(t *testing.T) {
	k := (wire.DefaultMaxLineTokens - 4) / 2 // 2k+4 tokens
	for name, appendf := range appendFuncs {
		t.Run(name, func(t *testing.T) {
			tk := wire.NewTokenizer(strings.NewReader(manyTokensLine(k)+strings.TrimSuffix(manyTokensLine(k), "\r\n")+" \r\n"+manyTokensLine(3)), nil)
			toks, err := appendf(tk, nil)
			if err != nil || len(toks) != wire.DefaultMaxLineTokens || toks[len(toks)-1].Kind != wire.KindCRLF {
				t.Fatalf("a line of the bound's %d tokens: %d tokens, %v", wire.DefaultMaxLineTokens, len(toks), err)
			}
			toks, err = appendf(tk, toks[:0])
			if !errors.Is(err, wire.ErrTooManyTokens) || len(toks) != wire.DefaultMaxLineTokens || toks[len(toks)-1].Kind != wire.KindSP {
				t.Fatalf("a line of one token more: %d tokens, %v", len(toks), err)
			}
			checkManyTokens(t, toks, 0)
			toks, err = appendf(tk, toks[:0])
			if err != nil || len(toks) != 1 || toks[0].Kind != wire.KindCRLF {
				t.Fatalf("its rest: %d tokens, %v; want its CRLF", len(toks), err)
			}
			toks, err = appendf(tk, toks[:0])
			if err != nil || len(toks) != 10 {
				t.Fatalf("a short line after it: %d tokens, %v; want 10", len(toks), err)
			}
			checkManyTokens(t, toks, 0)
		})
	}
}

// TestAppendLineTokenBoundOption: MaxLineTokens sets the bound, which
// counts the tokens of one call, not of dst: a call appends up to the
// bound whatever dst held. Each call ends at the bound, a literal's
// header included (its body read whole by AppendLine, left open by
// AppendUntilLiteral), and the calls give the tokens of one.
func TestAppendLineTokenBoundOption(t *testing.T) {
	in := "* 1 FETCH (FLAGS (\\Seen) BODY[] {5}\r\nhello UID 7)\r\n"
	opts := &wire.TokenizerOptions{MaxLineTokens: 3}
	whole, err := wire.NewTokenizer(strings.NewReader(in), nil).AppendLine(nil)
	if err != nil {
		t.Fatal(err)
	}
	tk := wire.NewTokenizer(strings.NewReader(in), opts)
	var all []wire.Token
	for {
		n := len(all)
		all, err = tk.AppendLine(all)
		if len(all)-n > 3 {
			t.Fatalf("a call appended %d tokens; the bound is 3", len(all)-n)
		}
		if err == nil {
			break
		}
		var le *wire.LimitError
		if !errors.As(err, &le) || !errors.Is(err, wire.ErrTooManyTokens) || le.Limit != 3 || le.Got != 4 || len(all)-n != 3 {
			t.Fatalf("%d tokens, %v", len(all)-n, err)
		}
	}
	if len(all) != len(whole) {
		t.Fatalf("%d tokens in calls of 3; want %d", len(all), len(whole))
	}
	for i := range all {
		if all[i].Kind != whole[i].Kind || all[i].String() != whole[i].String() || all[i].Num != whole[i].Num {
			t.Fatalf("token %d: %v %q; want %v %q", i, all[i].Kind, all[i].String(), whole[i].Kind, whole[i].String())
		}
	}

	// AppendUntilLiteral: the literal's header ends a call, the bound
	// or not; its body is the caller's.
	tk = wire.NewTokenizer(strings.NewReader(in), opts)
	var fwd bytes.Buffer
	total := 0
	for {
		toks, err := tk.AppendUntilLiteral(nil)
		if len(toks) > 3 || (err != nil && !errors.Is(err, wire.ErrTooManyTokens)) {
			t.Fatalf("%d tokens, %v", len(toks), err)
		}
		total += len(toks)
		if err == nil && toks[len(toks)-1].Kind == wire.KindLiteral {
			if _, err := tk.ForwardLiteral(&fwd); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if _, err := tk.Forward(&fwd); err != nil {
			t.Fatal(err)
		}
		if err == nil {
			break
		}
	}
	if total != len(whole) || fwd.String() != in {
		t.Fatalf("%d tokens, forwarded %q; want %d, %q", total, fwd.String(), len(whole), in)
	}
}
