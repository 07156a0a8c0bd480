package session

import (
	"context"
	"testing"
	"time"
)

// TestCommandBoundDefault: with the defaults, a command without a context
// deadline is bounded by DefaultCommandTimeout (what ends a slowloris
// server, which never stalls), and one with a deadline gets the stall
// timeout after it.
func TestCommandBoundDefault(t *testing.T) {
	s := &Session{}
	if got := s.commandBound(context.Background()); got != DefaultCommandTimeout {
		t.Errorf("no deadline: bound %v; want %v", got, DefaultCommandTimeout)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	got := s.commandBound(ctx)
	if want := time.Minute + DefaultStallTimeout; got > want || got < want-time.Second {
		t.Errorf("1 min deadline: bound %v; want about %v", got, want)
	}
	s.opts.CommandTimeout = -1
	if got := s.commandBound(context.Background()); got != 0 {
		t.Errorf("CommandTimeout -1: bound %v; want none", got)
	}
}
