package commands_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
)

// TestMoveIncompleteErrorTextBounded: the message of a
// *MoveIncompleteError named its Deleted and Removed sets whole; sets of
// 200,000 scattered UIDs (a hostile server's COPYUID or SEARCH answer, or
// a long set of the caller's) made a string of megabytes, in every log
// line that printed the error. Each branch's message now shows a few
// ranges and how many more; the fields keep the sets whole.
func TestMoveIncompleteErrorTextBounded(t *testing.T) {
	var huge codec.SeqSet
	for i := uint32(0); i < 200000; i++ {
		huge.AddNum(2*i + 1)
	}
	set := commands.Set{UID: true, Nums: huge}
	cause := errors.New("NO store refused")
	for _, e := range []*commands.MoveIncompleteError{
		{Deleted: set, Unknown: true, Err: cause},
		{Deleted: set, Removed: set, Err: cause},
		{Deleted: set, Err: cause},
		{Deleted: set, Unknown: true, Expunged: true, Err: cause},
	} {
		msg := e.Error()
		if len(msg) > 1000 || !strings.Contains(msg, "199992 more ranges, up to 399999") {
			t.Errorf("error text of %d bytes (%.200q); want a few ranges and \"199992 more ranges, up to 399999\"", len(msg), msg)
		}
		if n, _ := e.Deleted.Nums.Len(); n != 200000 {
			t.Errorf("Deleted holds %d UIDs; want all 200000", n)
		}
	}
}
