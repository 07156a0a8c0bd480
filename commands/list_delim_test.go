package commands_test

import (
	"strings"
	"testing"
)

// TestListDelimNonASCIIByte: a LIST whose delimiter is one byte past
// ASCII (0xE9, a Latin-1 server) and a name holding it. MailboxInfo.Delim
// came back as "é" in UTF-8 (0xC3 0xA9, string(rune(b)) in listInfo), two
// bytes the server never sent and the name does not hold: splitting
// Name by Delim gave one part. The same conversion is in Namespace
// (NamespaceDesc.Delim). Either the byte as sent, or an error.
func TestListDelimNonASCIIByte(t *testing.T) {
	c := resSelected(t, "IMAP4rev1", "LIST", "* LIST () \"\xe9\" A\xe9B")
	got, err := c.List(resCtx(t), "*", nil)
	if err != nil {
		return // refused: no wrong delimiter handed out
	}
	for _, m := range got {
		if parts := strings.Split(m.Name, m.Delim); len(parts) != 2 {
			t.Errorf("LIST delimiter 0xE9: Name %q, Delim %q (% x): the name does not split by it", m.Name, m.Delim, m.Delim)
		}
	}
}

// TestNamespaceDelimNonASCIIByte is TestListDelimNonASCIIByte for
// NAMESPACE.
func TestNamespaceDelimNonASCIIByte(t *testing.T) {
	c := resSelected(t, "IMAP4rev1 NAMESPACE", "NAMESPACE", "* NAMESPACE ((\"A\xe9\" \"\xe9\")) NIL NIL")
	ns, err := c.Namespace(resCtx(t))
	if err != nil {
		return
	}
	for _, d := range ns.Personal {
		if !strings.HasSuffix(d.Prefix, d.Delim) {
			t.Errorf("NAMESPACE delimiter 0xE9: Prefix %q, Delim %q (% x), not the byte sent", d.Prefix, d.Delim, d.Delim)
		}
	}
}
