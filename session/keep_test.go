package session_test

import (
	"context"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imapkit/imapkit/codec"
)

// TestPullKeep: the envelopes and body structures of a pulled FETCH with
// Command.Keep stay as they were decoded after Next moved on, after the
// command ended and while another FETCH without Keep reuses the decoder's
// memory.
func TestPullKeep(t *testing.T) {
	s := pipeFetchServer(t, 300)
	ctx := context.Background()
	type held struct {
		env  *codec.Envelope
		body *codec.BodyStructure
		want *codec.Fetch
	}
	var kept []held
	cmd := pullFetch(metadataItems)
	cmd.Keep = true
	p, err := s.Start(ctx, cmd)
	if err != nil {
		t.Fatal(err)
	}
	for {
		it, err := p.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if f, ok := it.Response.(*codec.Fetch); ok && it.Section == nil {
			kept = append(kept, held{f.Envelope, f.BodyStructure, codec.CloneResponse(f).(*codec.Fetch)})
		}
	}
	if _, err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	// The same stream again, reusing memory.
	pullAll(t, s, ctx, pullFetch(metadataItems), 300)
	if len(kept) != 300 {
		t.Fatalf("%d responses kept", len(kept))
	}
	for i, h := range kept {
		if diff := cmp.Diff(h.want.Envelope, h.env); diff != "" {
			t.Fatalf("response %d: the envelope changed (-was +now):\n%s", i, diff)
		}
		if diff := cmp.Diff(h.want.BodyStructure, h.body); diff != "" {
			t.Fatalf("response %d: the body structure changed (-was +now):\n%s", i, diff)
		}
	}
}
