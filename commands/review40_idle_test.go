package commands_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
)

// r40IdleAcrossSelect runs Idle on mailbox X while another goroutine of
// the same Client runs change (a SELECT of another mailbox, an UNSELECT),
// then has a second connection append to X and to Y.
func r40IdleAcrossSelect(t *testing.T, change func(ctx context.Context, c *commands.Client, y string) error) {
	ctx := dvCtx(t)
	a := dvClient(t, testserver.Alice, nil)
	b := dvClient(t, testserver.Alice, nil)
	x := dvMailbox(t, testserver.Alice, 3)
	y := dvMailbox(t, testserver.Alice, 7)
	if _, err := a.Select(ctx, x, nil); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var events []string
	ictx, cancel := context.WithCancel(ctx)
	defer cancel()
	idled := make(chan error, 1)
	go func() {
		idled <- a.Idle(ictx, nil, func(r codec.Response) bool {
			mu.Lock()
			events = append(events, r40Desc(r))
			mu.Unlock()
			return true
		})
	}()
	time.Sleep(200 * time.Millisecond) // the IDLE is under way on x
	if err := change(ctx, a, y); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	// New mail in x (the mailbox Idle was called on) and in y.
	for _, mb := range []string{x, y} {
		if _, err := b.AppendBytes(ctx, mb, []byte(fmt.Sprintf("Subject: new in %s\r\n\r\nx\r\n", mb)), nil); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-idled:
		t.Logf("Idle returned: %v", err)
		if !errors.Is(err, session.ErrReselected) {
			t.Errorf("Idle after the mailbox it watched was closed or replaced: %v; want an error matching session.ErrReselected", err)
		}
		return
	case <-time.After(3 * time.Second):
	}
	mu.Lock()
	defer mu.Unlock()
	t.Errorf("Idle, called on %s, went on without a word after another goroutine changed the selection (session state now %v): its handler got %q "+
		"(events of another mailbox, whose sequence numbers it applies to %s, or none at all for the new mail of %s); "+
		"want Idle to end with an error matching session.ErrReselected", x, a.Session().State(), events, x, x)
}

// TestReview40AIdleFollowsSelect: Idle is documented to let the Client be used
// on other goroutines meanwhile (it ends the IDLE, lets their commands
// go, and starts IDLE again). When one of them is a SELECT of another
// mailbox, the next IDLE runs there: the handler, which cannot tell,
// gets the other mailbox's EXISTS, EXPUNGE and FETCH (sequence numbers
// of another mailbox), and never hears of the new mail in the mailbox it
// idles on. Move's fallback and the parts of a split command are bound
// to the selection (session.Command.Selection, ErrReselected) for this
// very reason; Idle's IDLEs are not.
func TestReview40AIdleFollowsSelect(t *testing.T) {
	r40IdleAcrossSelect(t, func(ctx context.Context, c *commands.Client, y string) error {
		_, err := c.Select(ctx, y, nil)
		return err
	})
}

// TestReview40BIdleAfterUnselect: the same with UNSELECT: Idle goes on idling
// in state AUTH, where no mailbox event can come: a caller waiting for
// new mail waits for ever, with no error.
func TestReview40BIdleAfterUnselect(t *testing.T) {
	r40IdleAcrossSelect(t, func(ctx context.Context, c *commands.Client, y string) error {
		return c.Unselect(ctx)
	})
}

// r40Desc describes an event for the failure messages.
func r40Desc(r codec.Response) string {
	switch r := r.(type) {
	case *codec.Exists:
		return fmt.Sprintf("EXISTS %d", r.Count)
	case *codec.Expunge:
		return fmt.Sprintf("EXPUNGE %d", r.Seq)
	case *codec.Vanished:
		return fmt.Sprintf("VANISHED earlier=%v %v", r.Earlier, r.UIDs.Ranges())
	case *codec.Fetch:
		return fmt.Sprintf("FETCH %d uid=%d flags=%q", r.Seq, r.UID, r.Flags)
	case *codec.Recent:
		return fmt.Sprintf("RECENT %d", r.Count)
	case *codec.Status:
		return fmt.Sprintf("%v %q", r.Kind, r.Text)
	}
	return fmt.Sprintf("%T", r)
}

// TestReview40BIdleInAuthThenSelect: Idle called in the authenticated
// state of a session that never selected a mailbox (Selections 0, which
// a Command.Selection of 0 does not check) ends the same way when another
// goroutine selects one, rather than idle on in that mailbox
// (session.Command.CheckSelection).
func TestReview40BIdleInAuthThenSelect(t *testing.T) {
	ctx := dvCtx(t)
	a := dvClient(t, testserver.Alice, nil)
	x := dvMailbox(t, testserver.Alice, 3)
	if n := a.Session().Selections(); n != 0 {
		t.Fatalf("a fresh session's Selections = %d", n)
	}
	ictx, cancel := context.WithCancel(ctx)
	defer cancel()
	idled := make(chan error, 1)
	go func() {
		idled <- a.Idle(ictx, nil, func(r codec.Response) bool { return true })
	}()
	time.Sleep(200 * time.Millisecond) // the IDLE is under way, in AUTH
	if _, err := a.Select(ctx, x, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-idled:
		if !errors.Is(err, session.ErrReselected) || !errors.Is(err, session.ErrNotSent) {
			t.Errorf("Idle in AUTH, then a SELECT: %v; want a *NotSentError matching session.ErrReselected", err)
		}
	case <-time.After(3 * time.Second):
		t.Errorf("Idle, called in AUTH, idled on in %s after another goroutine selected it (state %v)", x, a.Session().State())
	}
}

// TestReview40BIdlePollAfterSelect: on a server without IDLE, the NOOP
// that stands for it is bound to the selection too: after another
// goroutine's SELECT, Idle returns instead of polling the other mailbox.
func TestReview40BIdlePollAfterSelect(t *testing.T) {
	c := hostileClient(t, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1")
		return c.Serve()
	})
	ctx := resCtx(t)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	ictx, cancel := context.WithCancel(ctx)
	defer cancel()
	idled := make(chan error, 1)
	go func() {
		idled <- c.Idle(ictx, &commands.IdleOptions{PollInterval: 20 * time.Millisecond}, func(r codec.Response) bool { return true })
	}()
	time.Sleep(100 * time.Millisecond) // a few NOOPs went
	if _, err := c.Select(ctx, "Other", nil); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-idled:
		if !errors.Is(err, session.ErrReselected) {
			t.Errorf("polled Idle, then a SELECT: %v; want an error matching session.ErrReselected", err)
		}
	case <-time.After(3 * time.Second):
		t.Errorf("polled Idle went on polling another mailbox after another goroutine's SELECT")
	}
}
