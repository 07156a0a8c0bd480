package wire_test

import (
	"bytes"
	"fmt"
	"log"
	"strings"

	"github.com/imapkit/imapkit/wire"
)

func ExampleEncoder() {
	enc := wire.NewEncoder(nil)

	// LOGIN: the user name is an astring, the password is never an atom.
	cmd, err := enc.Begin("A1").SP().Atom("LOGIN").SP().AString("alice").SP().Password(`p4ss "word"`).End()
	if err != nil {
		log.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := cmd.WriteTo(&out, nil); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q\n", out.String())
	fmt.Printf("%q\n", cmd.String()) // redacted, for traces

	// UID FETCH with a sequence set and nested lists.
	cmd, err = enc.Begin("A2").SP().Atom("UID").SP().Atom("FETCH").SP().
		SeqSet([]wire.SeqRange{{Start: 1, Stop: 100}, {Start: 200, Stop: 200}}).SP().
		List(func(e *wire.Encoder) {
			e.Atom("FLAGS").SP().Atom("BODY.PEEK").Special('[').Atom("HEADER.FIELDS").SP().
				List(func(e *wire.Encoder) { e.Atom("FROM").SP().Atom("SUBJECT") }).Special(']')
		}).End()
	if err != nil {
		log.Fatal(err)
	}
	out.Reset()
	cmd.WriteTo(&out, nil)
	fmt.Printf("%q\n", out.String())

	// A string with a line break becomes a synchronizing literal: WriteTo
	// waits for the server's "+" before sending the rest.
	cmd, _ = enc.Begin("A3").SP().Atom("SEARCH").SP().Atom("SUBJECT").SP().String("two\r\nlines").End()
	out.Reset()
	cmd.WriteTo(&out, func() error {
		out.WriteString("<wait for +>")
		return nil
	})
	fmt.Printf("%q\n", out.String())

	// Invalid input is never sent; End reports it.
	_, err = enc.Begin("A4").SP().Atom("SELECT").SP().Atom(strings.Repeat("x", 2) + " INBOX").End()
	fmt.Println(err)

	// Output:
	// "A1 LOGIN alice \"p4ss \\\"word\\\"\"\r\n"
	// "A1 LOGIN alice ***\r\n"
	// "A2 UID FETCH 1:100,200 (FLAGS BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)])\r\n"
	// "A3 SEARCH SUBJECT {10}\r\n<wait for +>two\r\nlines\r\n"
	// wire: encode Atom, argument 2: invalid atom at byte 2
}
