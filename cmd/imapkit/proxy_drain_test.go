package main

import (
	"context"
	"net"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// shutdownOnDeadline is a client connection whose first SetReadDeadline
// (drainClient's loop, about to read) is preceded by the proxy's
// shutdown: cancel ends ctx, and the call waits until ctx's AfterFunc has
// set its own deadline (now), so that the loop's comes after it: the
// interleaving in which the loop's deadline overwrote the shutdown's.
type shutdownOnDeadline struct {
	net.Conn
	cancel    context.CancelFunc
	mu        sync.Mutex
	calls     int
	afterFunc chan struct{} // closed by the AfterFunc's call
}

func (c *shutdownOnDeadline) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.calls++
	n := c.calls
	c.mu.Unlock()
	switch n {
	case 1:
		c.cancel()
		<-c.afterFunc
	case 2:
		defer close(c.afterFunc)
	}
	return c.Conn.SetReadDeadline(t)
}

// TestDrainClientShutdownDeadlineWins: drainClient, reading what a client
// still sends after the proxy's half-close, ends at the proxy's shutdown
// (ctx's end sets the read deadline to now). When the shutdown came
// between the loop's check of ctx and its own SetReadDeadline, the loop's
// deadline (proxyCloseQuiet ahead) overwrote the shutdown's, and the
// drain of a silent client went on for up to 200 ms after the shutdown.
// In a synctest bubble (its clock moves only when every goroutine is
// blocked): the drain must end at the shutdown's instant, the bubble's
// clock not moved. A structural check, not a timed one.
func TestDrainClientShutdownDeadlineWins(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client, proxyEnd := net.Pipe()
		defer client.Close()
		defer proxyEnd.Close()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		c := &shutdownOnDeadline{Conn: proxyEnd, cancel: cancel, afterFunc: make(chan struct{})}
		start := time.Now()
		drainClient(ctx, c, 4<<10)
		if waited := time.Since(start); waited != 0 {
			t.Errorf("the drain ended %v after the shutdown (the loop's read deadline overwrote the shutdown's); want at once", waited)
		}
	})
}
