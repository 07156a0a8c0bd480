package codec_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

// TestFetchUnknownItemAngleAtom: an unknown FETCH item's value and an
// unknown response code's arguments are read with the tokenizer's Next,
// which took "<0" for the start of a partial and failed ("expected '>'"),
// though '<' is an ATOM-CHAR. They are now read as atoms; BODY[]<0> is
// still a partial.
func TestFetchUnknownItemAngleAtom(t *testing.T) {
	in := "* 1 FETCH (UID 5 X-UNK (<0 <1.2> a) BODY[]<3> {2}\r\nhi)\r\n" +
		"* OK [X-CODE <0 <x] text\r\n" +
		"* 2 EXISTS\r\n"
	d := codec.NewDecoder(wire.NewTokenizer(strings.NewReader(in), nil), nil)
	resp, err := d.Next()
	f, ok := resp.(*codec.Fetch)
	if err != nil || !ok {
		t.Fatalf("FETCH: %v %v", resp, err)
	}
	if len(f.Unknown) != 1 || string(f.Unknown[0].Raw) != "(<0 <1.2> a)" {
		t.Errorf("unknown items %+v", f.Unknown)
	}
	if len(f.Sections) != 1 || !f.Sections[0].HasOrigin || f.Sections[0].Origin != 3 {
		t.Errorf("sections %+v", f.Sections)
	}
	resp, err = d.Next()
	st, ok := resp.(*codec.Status)
	if err != nil || !ok || st.Code == nil || string(st.Text) != "text" {
		t.Fatalf("status: %+v %v", resp, err)
	}
	if resp, err = d.Next(); err != nil {
		t.Fatalf("after: %v %v", resp, err)
	}
}

// TestFetchSectionTwoLists: "BODY[HEADER.FIELDS (a) (b)]" is no
// section of RFC 3501 or 9051 (section-msgtext takes one header-list).
// The codec refuses it (a syntax error at the second list), and the
// stream stays in step: the next response decodes.
func TestFetchSectionTwoLists(t *testing.T) {
	in := "* 1 FETCH (BODY[HEADER.FIELDS (a) (b)] {2}\r\nhi)\r\n* 2 EXISTS\r\n"
	d := codec.NewDecoder(wire.NewTokenizer(strings.NewReader(in), nil), nil)
	resp, err := d.Next()
	if err == nil {
		t.Fatalf("decoded %+v; want an error", resp)
	}
	if !errors.Is(err, wire.ErrSyntax) {
		t.Errorf("error %v; want a syntax error", err)
	}
	resp, err = d.Next()
	if e, ok := resp.(*codec.Exists); err != nil || !ok || e.Count != 2 {
		t.Errorf("next: %+v %v; want * 2 EXISTS", resp, err)
	}
}
