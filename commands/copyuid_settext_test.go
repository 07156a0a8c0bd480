package commands_test

import (
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
)

// TestCopyUIDErrorTextUnsortedSrc: a COPYUID's source set is kept in the
// server's order (it pairs with the destination set), so the refused Src
// of a *CopyUIDError may be unsorted. setText (commands/copy.go) shows its
// first 8 ranges sorted and "up to" the Stop of its last range in the
// server's order, not its highest number: "100,... up to 17" says the
// set ends below a number it shows. The bound on the text's length holds.
func TestCopyUIDErrorTextUnsortedSrc(t *testing.T) {
	var src codec.SeqSet
	if err := src.ParseInto([]byte("100,1,3,5,7,9,11,13,15,17")); err != nil {
		t.Fatal(err)
	}
	msg := (&commands.CopyUIDError{Src: src}).Error()
	if strings.Contains(msg, "100") && strings.Contains(msg, "up to 17") {
		t.Errorf("CopyUIDError text for a COPYUID source set 100,1,3,...,17: %q; want \"up to\" the set's highest number (100), not its last range's", msg)
	}
}
