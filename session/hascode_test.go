package session_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
)

// TestHasCode: HasCode finds the response code of a *StatusError, wrapped
// or not, and says false for other errors, other codes and no code.
func TestHasCode(t *testing.T) {
	tryCreate := &session.StatusError{Command: "APPEND", Status: &codec.Status{Kind: codec.StatusNO,
		Code: &codec.Code{Kind: codec.CodeTryCreate}}}
	noCode := &session.StatusError{Command: "APPEND", Status: &codec.Status{Kind: codec.StatusNO}}
	for _, c := range []struct {
		err  error
		want bool
	}{
		{tryCreate, true},
		{fmt.Errorf("append to Sent: %w", tryCreate), true},
		{noCode, false},
		{errors.New("TRYCREATE"), false},
		{nil, false},
	} {
		if got := session.HasCode(c.err, codec.CodeTryCreate); got != c.want {
			t.Errorf("HasCode(%v, TRYCREATE) = %v", c.err, got)
		}
	}
	if session.HasCode(tryCreate, codec.CodeNonExistent) {
		t.Error("a TRYCREATE taken for NONEXISTENT")
	}
}
