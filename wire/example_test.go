package wire_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/imapkit/imapkit/wire"
)

// leg is one direction of a logging proxy: it relays from its tokenizer to
// w unchanged and prints each line's tokens, with LOGIN's arguments and
// SASL lines redacted. classify is the shared Dialog's Client or Server.
type leg struct {
	who      string
	tk       *wire.Tokenizer
	w        *bufio.Writer
	classify func([]wire.Token) wire.Event
	line     []wire.Token
	printed  []byte
}

// relayLine relays and prints one line (a real proxy loops on it in one
// goroutine per direction).
func (l *leg) relayLine() error {
	var ev wire.Event
	start := true
	words := 0 // tokens of the line but spaces: the tag is 0
	for {
		var err error
		l.line, err = l.tk.AppendUntilLiteral(l.line[:0])
		// ErrTooManyTokens: a line of more than MaxLineTokens tokens; the
		// next call goes on with it (not a new line: no new classify).
		more := errors.Is(err, wire.ErrTooManyTokens)
		if err != nil && !more {
			return err // on a *SyntaxError, ForwardLine relays the line as it is
		}
		if start {
			ev = l.classify(l.line)
			l.printed = append(l.printed[:0], l.who...)
			start = false
		}
		for _, tok := range l.line {
			switch {
			case tok.Kind == wire.KindCRLF:
			case ev.Kind == wire.LineSASL:
				if !bytes.HasSuffix(l.printed, []byte("[SASL]")) {
					l.printed = append(l.printed, "[SASL]"...)
				}
			case ev.Command == "LOGIN" && tok.Kind != wire.KindSP && words >= 3:
				l.printed = append(l.printed, "***"...)
			case tok.Kind == wire.KindLiteral:
				l.printed = append(l.printed, fmt.Sprintf("{%d bytes}", tok.Literal().Size)...)
			default:
				l.printed = wire.AppendToken(l.printed, tok)
			}
			if tok.Kind != wire.KindSP {
				words++
			}
		}
		if more {
			if _, err := l.tk.Forward(l.w); err != nil {
				return err
			}
			continue
		}
		if l.line[len(l.line)-1].Kind == wire.KindLiteral {
			// The header goes out (flushed) before the body is awaited.
			if _, err := l.tk.ForwardLiteral(l.w); err != nil {
				return err
			}
			continue
		}
		if _, err := l.tk.Forward(l.w); err != nil {
			return err
		}
		if l.tk.ShouldFlush() {
			l.w.Flush()
		}
		fmt.Printf("%s (%s)\n", l.printed, ev.Kind)
		return nil
	}
}

// A two-way logging proxy: each direction has its own Tokenizer (in a real
// proxy, its own goroutine), a Dialog shared by both tells SASL lines and
// DONE from commands, and Forward/ForwardLiteral pass every byte on
// unchanged. Here the two directions are canned and take turns. A proxy
// that filters commands, not only logs them, also waits for the server's
// word on each client literal (docs/proxy.md): a server may not read the
// body a "{n+}" announces.
func Example_loggingProxy() {
	fromClient := "a1 LOGIN alice {6+}\r\nsecret\r\n" +
		"a2 AUTHENTICATE PLAIN\r\nAGFsaWNlAHNlY3JldA==\r\n" +
		"a3 IDLE\r\nDONE\r\n"
	fromServer := "* OK [CAPABILITY IMAP4rev1 IDLE] ready {5}\r\n" +
		"a1 OK logged in\r\n" +
		"+ \r\na2 NO already logged in\r\n" +
		"+ idling\r\n* 1 FETCH (BODY[] {5}\r\nhello)\r\na3 OK done\r\n"
	var d wire.Dialog
	var toServer, toClient bytes.Buffer
	// MaxLineTokens 5, only to show lines read in several calls: the
	// default (65,536) takes one call for any ordinary line. Dialog needs
	// a line's first five tokens ("a1 UID FETCH").
	opts := &wire.TokenizerOptions{MaxLineTokens: 5}
	client := &leg{who: "C: ", tk: wire.NewTokenizer(strings.NewReader(fromClient), opts), w: bufio.NewWriter(&toServer), classify: d.Client}
	server := &leg{who: "S: ", tk: wire.NewTokenizer(strings.NewReader(fromServer), opts), w: bufio.NewWriter(&toClient), classify: d.Server}
	for _, turn := range "SCSCSCSCSSCS" {
		l := client
		if turn == 'S' {
			l = server
		}
		if err := l.relayLine(); err != nil && err != io.EOF {
			fmt.Println(err)
		}
	}
	fmt.Println("unchanged:", toServer.String() == fromClient, toClient.String() == fromServer)
	// Output:
	// S: * OK [CAPABILITY IMAP4rev1 IDLE] ready {5} (untagged)
	// C: a1 LOGIN alice *** (command)
	// S: a1 OK logged in (completion)
	// C: a2 AUTHENTICATE PLAIN (command)
	// S: [SASL] (sasl)
	// C: [SASL] (sasl)
	// S: a2 NO already logged in (completion)
	// C: a3 IDLE (command)
	// S: + idling (continuation)
	// S: * 1 FETCH (BODY[] {5 bytes}) (untagged)
	// C: DONE (done)
	// S: a3 OK done (completion)
	// unchanged: true true
}
