package commands_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// script replays testdata/NAME.txt as the server over an in-memory pipe:
// "S: x" is written, "C: x" must be the client's next line, byte for byte,
// "SLEEP d" pauses, "QUIET d" requires silence from the client for d. Tags
// are deterministic (prefix "A"). The returned function waits for the end
// of the script and reports mismatches.
func script(t *testing.T, name string) (net.Conn, func() error) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name+".txt"))
	if err != nil {
		t.Fatal(err)
	}
	client, server := transport.Pipe()
	done := make(chan error, 1)
	go func() {
		defer server.Close()
		r := bufio.NewReader(server)
		for i, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
			switch {
			case line == "" || strings.HasPrefix(line, "#"):
			case strings.HasPrefix(line, "S: "):
				if _, err := io.WriteString(server, line[3:]+"\r\n"); err != nil {
					done <- fmt.Errorf("line %d: write: %v", i+1, err)
					return
				}
			case strings.HasPrefix(line, "C: "):
				server.SetReadDeadline(time.Now().Add(3 * time.Second))
				got, err := r.ReadString('\n')
				if err != nil {
					done <- fmt.Errorf("line %d: want %q, read error %v", i+1, line[3:], err)
					return
				}
				if got != line[3:]+"\r\n" {
					done <- fmt.Errorf("line %d: client sent %q; want %q", i+1, got, line[3:]+"\r\n")
					return
				}
			case strings.HasPrefix(line, "QUIET "):
				d, _ := time.ParseDuration(line[6:])
				server.SetReadDeadline(time.Now().Add(d))
				if _, err := r.Peek(1); err == nil {
					done <- fmt.Errorf("line %d: the client sent something during QUIET", i+1)
					return
				}
			case strings.HasPrefix(line, "SLEEP "):
				d, _ := time.ParseDuration(line[6:])
				time.Sleep(d)
			default:
				done <- fmt.Errorf("line %d: bad script line %q", i+1, line)
				return
			}
		}
		server.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if extra, err := r.ReadString('\n'); err == nil {
			done <- fmt.Errorf("client sent %q after the end of the script", extra)
			return
		}
		done <- nil
	}()
	return client, func() error {
		select {
		case err := <-done:
			return err
		case <-time.After(15 * time.Second):
			return errors.New("script did not finish")
		}
	}
}

// scripted opens a Client on the script; the script's result is checked
// when the test ends.
func scripted(t *testing.T, name string) (*commands.Client, context.Context) {
	t.Helper()
	return scriptedOpts(t, name, nil)
}

// scriptedOpts is scripted with session options (TagPrefix is "A").
func scriptedOpts(t *testing.T, name string, opts *session.Options) (*commands.Client, context.Context) {
	t.Helper()
	conn, wait := script(t, name)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	var o session.Options
	if opts != nil {
		o = *opts
	}
	o.TagPrefix = "A"
	c, err := commands.Open(ctx, conn, &auth.Options{Session: &o})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := wait(); err != nil {
			t.Errorf("script %s: %v", name, err)
		}
		c.Session().Close()
	})
	return c, ctx
}
