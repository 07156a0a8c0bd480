package wire_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/wire"
)

func r36bLine(t *testing.T, s string) []wire.Token {
	t.Helper()
	tk := wire.NewTokenizer(strings.NewReader(s), nil)
	toks, err := tk.AppendUntilLiteral(nil)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return toks
}

// TestDialogReview36bRefusalAnswerCompletesOlder: docs/proxy.md
// ("Refusing a command") said to pass the proxy's own answer to d.Server
// so that a refused IDLE or AUTHENTICATE does not leave the Dialog in IDLE
// or SASL mode. With an older command of the same tag still pending
// upstream, the answer completed that one instead: the Dialog stayed in
// SASL mode for an AUTHENTICATE the server never saw, and the older
// command's real completion was named after the refused command (in
// imapkit proxy, taken for a COMPRESS accepted). Answered completes the
// refused command by its own entry.
func TestDialogReview36bRefusalAnswerCompletesOlder(t *testing.T) {
	var d wire.Dialog
	d.Client(r36bLine(t, "z NOOP\r\n"))               // relayed
	d.Client(r36bLine(t, "z AUTHENTICATE PLAIN\r\n")) // refused by the proxy
	d.Answered()                                      // the proxy's "z NO refused by the proxy"
	if ev := d.Server(r36bLine(t, "+ \r\n")); ev.Kind == wire.LineSASL {
		t.Errorf("after the refused AUTHENTICATE's answer, a '+' is still a SASL challenge (%+v)", ev)
	}

	var d2 wire.Dialog
	d2.Client(r36bLine(t, "z NOOP\r\n"))             // relayed
	d2.Client(r36bLine(t, "z COMPRESS DEFLATE\r\n")) // refused by a proxy
	d2.Answered()                                    // the proxy's "z BAD refused by the proxy"
	if ev := d2.Server(r36bLine(t, "z OK NOOP completed\r\n")); ev.Command != "NOOP" {
		t.Errorf("the NOOP's completion is named %q", ev.Command)
	}
}

// TestDialogReview36bForgottenEndsIdle: Client remembers 1,024 pending
// commands and forgets the oldest beyond: its completion was then matched
// to the next pending command with the same tag, an IDLE, which ended
// before the server had accepted it (its "+" then Stray, or a literal's
// go-ahead). ClientWait, which a proxy calls, waits for room instead of
// forgetting: the NOOP's completion is the NOOP's, and the IDLE's "+" is
// the IDLE's.
func TestDialogReview36bForgottenEndsIdle(t *testing.T) {
	var d wire.Dialog
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := d.ClientWait(ctx, r36bLine(t, "z NOOP\r\n")); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1023; i++ {
		if _, err := d.ClientWait(ctx, r36bLine(t, "y NOOP\r\n")); err != nil {
			t.Fatal(err)
		}
	}
	short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancelShort()
	if ev, err := d.ClientWait(short, r36bLine(t, "z IDLE\r\n")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a command with 1,024 pending: %+v %v; want it to wait", ev, err)
	}
	idle := make(chan wire.Event, 1)
	go func() {
		ev, _ := d.ClientWait(ctx, r36bLine(t, "z IDLE\r\n"))
		idle <- ev
	}()
	if ev := d.Server(r36bLine(t, "z OK NOOP completed\r\n")); ev.Command != "NOOP" {
		t.Fatalf("the NOOP's completion: %+v", ev)
	}
	if ev := <-idle; ev.Command != "IDLE" {
		t.Fatalf("the IDLE, once there is room: %+v", ev)
	}
	if ev := d.Server(r36bLine(t, "+ idling\r\n")); ev.Stray || ev.Kind != wire.LineContinuation {
		t.Errorf("the IDLE's '+' after an earlier command's completion: %+v", ev)
	}
}
