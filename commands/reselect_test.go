package commands_test

import (
	"bufio"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// TestMoveFallbackReselected: another goroutine selects another mailbox
// while Move's fallback (no MOVE; UIDPLUS) waits for its COPY: the STORE
// \Deleted and UID EXPUNGE that would remove the copied messages are not
// sent to the other mailbox (where the same UIDs name other messages);
// Move ends with a *MoveIncompleteError matching session.ErrReselected.
// Replace's fallback is bound the same way.
func TestMoveFallbackReselected(t *testing.T) {
	client, server := transport.Pipe()
	var mu sync.Mutex
	var got []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer server.Close()
		server.Write([]byte("* PREAUTH [CAPABILITY IMAP4rev1 UIDPLUS] ready\r\n"))
		r := bufio.NewReader(server)
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return
			}
			tag, rest, _ := strings.Cut(strings.TrimRight(l, "\r\n"), " ")
			mu.Lock()
			got = append(got, rest)
			mu.Unlock()
			switch {
			case strings.HasPrefix(rest, "SELECT"):
				server.Write([]byte("* 10 EXISTS\r\n" + tag + " OK [READ-WRITE] selected\r\n"))
			case strings.HasPrefix(rest, "UID SEARCH"):
				server.Write([]byte("* SEARCH 5\r\n" + tag + " OK done\r\n"))
			case strings.HasPrefix(rest, "UID COPY"):
				time.Sleep(150 * time.Millisecond) // the other SELECT queues meanwhile
				server.Write([]byte(tag + " OK [COPYUID 7 5 20] copied\r\n"))
			default:
				server.Write([]byte(tag + " OK done\r\n"))
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := session.Open(ctx, client, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close(); <-done }()
	c := commands.New(s)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	selected := make(chan error, 1)
	go func() {
		time.Sleep(50 * time.Millisecond)
		_, err := c.Select(ctx, "Other", nil)
		selected <- err
	}()
	_, err = c.Move(ctx, commands.UIDs(5), "Archive")
	var mi *commands.MoveIncompleteError
	if !errors.As(err, &mi) || !errors.Is(err, session.ErrReselected) {
		t.Errorf("Move with a SELECT between its COPY and its removal: %v; want a *MoveIncompleteError matching ErrReselected", err)
	}
	if err := <-selected; err != nil {
		t.Fatal(err)
	}
	if err := c.Noop(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"SELECT INBOX", "UID SEARCH UID 5", "UID COPY 5 Archive", "SELECT Other", "NOOP"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("the server saw %q; want %q", got, want)
	}
}
