package codec_test

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

func ExampleDecoder() {
	server := "* 3 EXISTS\r\n" +
		"* OK [UIDVALIDITY 3857529045] UIDs valid\r\n" +
		"* 1 FETCH (UID 101 FLAGS (\\Seen) BODY[HEADER.FIELDS (SUBJECT)] {16}\r\nSubject: Hello\r\n)\r\n" +
		"* XFOO something new\r\n" +
		"A1 OK [READ-WRITE] SELECT completed\r\n"
	d := codec.NewDecoder(wire.NewTokenizer(strings.NewReader(server), nil), nil)
	for {
		resp, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println("error:", err) // a *codec.DecodeError; the next response still decodes
			continue
		}
		switch r := resp.(type) {
		case *codec.Exists:
			fmt.Println("messages:", r.Count)
		case *codec.Fetch:
			fmt.Printf("message %d: UID %d, flags %s, %q\n", r.Seq, r.UID, r.Flags, r.Sections[0].Data)
		case *codec.Status:
			tag := "*"
			if r.Tag != nil {
				tag = r.Tag.String()
			}
			if r.Code != nil {
				fmt.Printf("%s %s [%s] %s\n", tag, r.Kind, r.Code.Kind, r.Text)
			}
		case *codec.Unknown:
			fmt.Printf("unknown %s: %s\n", r.Name, r.Rest)
		}
	}
	// Output:
	// messages: 3
	// * OK [UIDVALIDITY] UIDs valid
	// message 1: UID 101, flags [\Seen], "Subject: Hello\r\n"
	// unknown XFOO: something new
	// A1 OK [READ-WRITE] SELECT completed
}

func ExampleAppendResponse() {
	var out []byte
	out = codec.AppendResponse(out, &codec.List{
		Attrs:   []codec.Bytes{codec.Bytes(`\HasNoChildren`)},
		Delim:   '/',
		Mailbox: codec.Bytes("Sent Items"),
	})
	out = codec.AppendResponse(out, &codec.Fetch{
		Seq: 1, Has: codec.FetchUID | codec.FetchFlags, UID: 42,
		Flags:    []codec.Bytes{codec.Bytes(`\Seen`)},
		Sections: []codec.Section{{Kind: codec.SectionBody, Data: codec.Bytes("Hi!\r\n")}},
	})
	out = codec.AppendResponse(out, &codec.Status{Tag: codec.Bytes("A1"), Kind: codec.StatusOK, Text: codec.Bytes("done")})
	// Every line ends in CRLF; show them as plain line ends.
	fmt.Print(strings.ReplaceAll(string(out), "\r\n", "\n"))
	// Output:
	// * LIST (\HasNoChildren) "/" "Sent Items"
	// * 1 FETCH (UID 42 FLAGS (\Seen) BODY[] {5}
	// Hi!
	// )
	// A1 OK done
}

func ExampleCloneResponse() {
	server := "* LIST () \"/\" INBOX\r\n* LIST () \"/\" Archive\r\nA1 OK done\r\n"
	d := codec.NewDecoder(wire.NewTokenizer(strings.NewReader(server), nil), nil)
	// A response borrows the decoder's memory until the next call to Next:
	// clone the ones to keep.
	var lists []*codec.List
	for {
		resp, err := d.Next()
		if err != nil {
			break
		}
		if l, ok := resp.(*codec.List); ok {
			lists = append(lists, codec.CloneResponse(l).(*codec.List))
		}
	}
	for _, l := range lists {
		fmt.Println(l.Mailbox)
	}
	// Output:
	// INBOX
	// Archive
}

// A body part as the server stores it (quoted-printable, ISO-8859-1),
// decoded to UTF-8 as it is read.
func ExampleBodyStructure_Decode() {
	part := &codec.BodyStructure{
		Type: codec.Bytes("text"), Subtype: codec.Bytes("plain"),
		Params:   []codec.Param{{Name: codec.Bytes("charset"), Value: codec.Bytes("iso-8859-1")}},
		Encoding: codec.Bytes("quoted-printable"),
	}
	body := strings.NewReader("Gr=FC=DFe aus K=F6ln, a line broken by the=\r\n encoder.\r\n") // BODY[1]
	text, err := part.Decode(body)
	if err != nil {
		panic(err) // an unknown encoding or charset; text still reads the part
	}
	io.Copy(os.Stdout, text)
	// Output:
	// Grüße aus Köln, a line broken by the encoder.
}

// A client that keeps the UIDs it knows of a mailbox (for QRESYNC's known
// UIDs, say) removes those a VANISHED names.
func ExampleSeqSet_Remove() {
	known, _ := codec.ParseSeqSet([]byte("1:120"))
	vanished, _ := codec.ParseSeqSet([]byte("41,43:116,118"))
	known.Remove(vanished)
	fmt.Println(known.String())
	// Output: 1:40,42,117,119:120
}

// A VANISHED (EARLIER) cut to the UIDs the client asked about: the
// numbers both sets hold. A range to "*" holds every number from its
// start.
func ExampleSeqSet_Intersect() {
	asked, _ := codec.ParseSeqSet([]byte("1:40,100:*"))
	vanished, _ := codec.ParseSeqSet([]byte("35:120,300"))
	fmt.Println(vanished.Intersect(asked).String())
	// Output: 35:40,100:120,300
}
