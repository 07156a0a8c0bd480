// Package relay is a TCP relay that delays every byte by a fixed time in
// each direction, so that a loopback server looks as far away as a real
// one: a one-way delay of 10 ms makes a round trip of 20 ms. Bandwidth is
// not limited; bytes are forwarded in the chunks they were read in, each
// once its delay has passed.
package relay

import (
	"net"
	"sync"
	"time"
)

// Relay listens on a loopback port and forwards each connection to a
// target.
type Relay struct {
	ln     net.Listener
	target string
	delay  time.Duration

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// Listen starts a relay on 127.0.0.1 forwarding to target with oneWay
// delay in each direction.
func Listen(target string, oneWay time.Duration) (*Relay, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &Relay{ln: ln, target: target, delay: oneWay, conns: map[net.Conn]struct{}{}}
	r.wg.Add(1)
	go r.accept()
	return r, nil
}

// Addr is the address clients connect to.
func (r *Relay) Addr() string { return r.ln.Addr().String() }

// Close stops the relay, closes every connection and waits for its
// goroutines.
func (r *Relay) Close() error {
	r.mu.Lock()
	r.closed = true
	for c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	err := r.ln.Close()
	r.wg.Wait()
	return err
}

func (r *Relay) track(c net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		c.Close()
		return false
	}
	r.conns[c] = struct{}{}
	return true
}

func (r *Relay) accept() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		if !r.track(c) {
			return
		}
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			defer c.Close()
			s, err := net.DialTimeout("tcp", r.target, 10*time.Second)
			if err != nil {
				return
			}
			if !r.track(s) {
				return
			}
			defer s.Close()
			done := make(chan struct{}, 2)
			go func() { r.pump(s, c); done <- struct{}{} }()
			go func() { r.pump(c, s); done <- struct{}{} }()
			<-done
			// One direction ended: end the other as well.
			c.Close()
			s.Close()
			<-done
		}()
	}
}

type chunk struct {
	b   []byte
	due time.Time
}

// pump copies src to dst, each chunk delayed by r.delay after it was read.
func (r *Relay) pump(dst, src net.Conn) {
	ch := make(chan chunk, 1<<12)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for c := range ch {
			if d := time.Until(c.due); d > 0 {
				time.Sleep(d)
			}
			if _, err := dst.Write(c.b); err != nil {
				// Drain so that the reader is never blocked.
				for range ch {
				}
				return
			}
		}
		if tc, ok := dst.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
	}()
	buf := make([]byte, 64<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			ch <- chunk{b: append([]byte(nil), buf[:n]...), due: time.Now().Add(r.delay)}
		}
		if err != nil { // EOF, a reset or a closed connection: the pump ends
			break
		}
	}
	close(ch)
	wg.Wait()
}
