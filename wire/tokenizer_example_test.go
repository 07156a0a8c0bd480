package wire_test

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"strings"

	"github.com/imapkit/imapkit/wire"
)

// The tokenizer in a proxy: the server's bytes are forwarded to the client
// as they are read (io.TeeReader), byte for byte, and the tokenizer follows
// them line by line, so that the proxy knows each response's tag and name
// and where it ends. A literal larger than MaxStringLiteral is streamed
// through, never held in memory.
func ExampleTokenizer_AppendLine() {
	fromServer := "* OK [CAPABILITY IMAP4rev1] ready\r\n" +
		"* 1 FETCH (UID 7 BODY[] {11}\r\nHello world)\r\n" +
		"* 2 FETCH (UID 8 BODY[] {100000}\r\n" + strings.Repeat("x", 100000) + ")\r\n" +
		"A1 OK done\r\n"
	var toClient bytes.Buffer // the connection to the client
	t := wire.NewTokenizer(io.TeeReader(strings.NewReader(fromServer), &toClient), nil)

	var line []wire.Token
	for {
		var err error
		line, err = t.AppendLine(line[:0])
		// AppendLine stops after the header of a large literal: stream
		// the body, then go on with the line.
		streamed := int64(0)
		for err == nil && line[len(line)-1].Kind == wire.KindLiteral {
			body, _ := t.LiteralReader()
			n, _ := io.Copy(io.Discard, body) // the tee forwards it
			streamed += n
			line, err = t.AppendLine(line)
		}
		if err == io.EOF && len(line) == 0 {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		// The tag, then the name: "* 1 FETCH" has a number before it.
		tag, name := line[0], line[2]
		if name.Kind == wire.KindNumber {
			name = line[4]
		}
		tagText := tag.String()
		if tag.Kind == wire.KindStar {
			tagText = "*"
		}
		fmt.Printf("%s %s: %d tokens", tagText, name, len(line))
		for _, tok := range line {
			if tok.Kind == wire.KindLiteral && tok.Bytes() != nil {
				fmt.Printf(", literal %q", tok.Bytes())
			}
		}
		if streamed > 0 {
			fmt.Printf(", %d literal bytes streamed", streamed)
		}
		fmt.Println()
	}
	fmt.Println("forwarded unchanged:", toClient.String() == fromServer)
	// Output:
	// * OK: 12 tokens
	// * FETCH: 18 tokens, literal "Hello world"
	// * FETCH: 18 tokens, 100000 literal bytes streamed
	// A1 OK: 6 tokens
	// forwarded unchanged: true
}
