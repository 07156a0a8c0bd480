// Command contender-imapkit is imapkit's contender in the end-to-end
// comparison (bench/cmd/compare): it runs one job (see package
// bench/internal/contender) through the commands package, and prints a
// report.
//
// Modes: for meta, "" uses the Client.Fetch iterator, "borrow" the same
// with FetchItems.Borrow (messages lent, not copied), and "run" collects
// the whole answer with session.Session.Run; for idle, "" puts each session in
// IDLE with session.Session.Start (no goroutine of the caller's per
// session) and "commands" runs commands.Client.Idle on a goroutine per
// session.
package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/imapkit/imapkit/bench/internal/contender"
	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

const metaItems = "UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE"

func main() {
	cfg := contender.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
	defer cancel()
	if cfg.Job == contender.JobIdle {
		contender.Emit(idle(ctx, cfg))
	}
	c, err := dial(ctx, cfg)
	if err != nil {
		contender.Fail(err)
	}
	var r contender.Report
	switch cfg.Job {
	case contender.JobMeta, contender.JobBody:
		r, err = fetch(ctx, c, cfg)
	case contender.JobStoreSeq, contender.JobStorePipe:
		r, err = store(ctx, c, cfg)
	default:
		err = fmt.Errorf("job %q not supported", cfg.Job)
	}
	if err == nil {
		err = c.Logout(ctx)
	}
	if err != nil {
		contender.Fail(err)
	}
	contender.Emit(r)
}

func dial(ctx context.Context, cfg *contender.Config) (*commands.Client, error) {
	var conn net.Conn
	var err error
	if cfg.TLS {
		tc, terr := cfg.TLSConfig()
		if terr != nil {
			return nil, terr
		}
		conn, err = transport.DialTLS(ctx, cfg.Addr, tc, nil)
	} else {
		conn, err = transport.Dial(ctx, cfg.Addr, nil)
	}
	if err != nil {
		return nil, err
	}
	c, err := commands.Open(ctx, conn, nil)
	if err != nil {
		conn.Close()
		return nil, err
	}
	if err := c.Login(ctx, cfg.User, cfg.Pass); err != nil {
		c.Session().Close()
		return nil, err
	}
	return c, nil
}

func fetch(ctx context.Context, c *commands.Client, cfg *contender.Config) (contender.Report, error) {
	var r contender.Report
	if _, err := c.Examine(ctx, cfg.Mailbox); err != nil {
		return r, err
	}
	if cfg.Job == contender.JobMeta && cfg.Mode == "run" {
		res, err := c.Session().Run(ctx, &session.Command{Name: "FETCH", Args: func(e *wire.Encoder) { e.SP().Raw("1:* (" + metaItems + ")") }})
		if err != nil {
			return r, err
		}
		for _, d := range res.Data {
			if f, ok := d.(*codec.Fetch); ok && f.Envelope != nil && f.BodyStructure != nil {
				r.Messages++
				r.UIDSum += uint64(f.UID)
			}
		}
		return r, nil
	}
	items := &commands.FetchItems{UID: true, Flags: true, InternalDate: true, Size: true, Envelope: true, BodyStructure: true,
		Borrow: cfg.Mode == "borrow"}
	if cfg.Job == contender.JobBody {
		items = &commands.FetchItems{UID: true, Sections: []commands.FetchSection{commands.WholeMessage}}
	}
	for m, err := range c.Fetch(ctx, commands.SeqRange(1, 0), items) {
		if err != nil {
			return r, err
		}
		if cfg.Job == contender.JobMeta && (m.Envelope == nil || m.BodyStructure == nil) {
			return r, fmt.Errorf("message %d: no ENVELOPE or BODYSTRUCTURE", m.SeqNum)
		}
		r.Messages++
		r.UIDSum += uint64(m.UID)
		for {
			sec, err := m.NextSection()
			if err == io.EOF {
				break
			}
			if err != nil {
				return r, err
			}
			n, err := io.Copy(io.Discard, sec)
			r.Bytes += n
			if err != nil {
				return r, err
			}
		}
	}
	return r, nil
}

// store runs the UID STOREs through the session, one at a time with Run
// or all at once with StartBatch.
func store(ctx context.Context, c *commands.Client, cfg *contender.Config) (contender.Report, error) {
	var r contender.Report
	if _, err := c.Select(ctx, cfg.Mailbox, nil); err != nil {
		return r, err
	}
	s := c.Session()
	cmds := make([]*session.Command, cfg.N)
	for i := range cmds {
		args := fmt.Sprintf("%d %sFLAGS (\\Flagged)", i+1, cfg.Op)
		cmds[i] = &session.Command{Name: "UID STORE", Args: func(e *wire.Encoder) { e.SP().Raw(args) }}
	}
	count := func(res *session.Result) {
		r.Commands++
		r.Messages += len(res.Data)
	}
	if cfg.Job == contender.JobStoreSeq {
		for _, cmd := range cmds {
			res, err := s.Run(ctx, cmd)
			if err != nil {
				return r, err
			}
			count(res)
		}
		return r, nil
	}
	ps, err := s.StartBatch(ctx, cmds)
	if err != nil {
		return r, err
	}
	for _, p := range ps {
		res, err := p.Wait(ctx)
		if err != nil {
			return r, err
		}
		count(res)
	}
	return r, nil
}

// idleConn tells when the scripted server's "+ idling" has been read.
type idleConn struct {
	net.Conn
	once sync.Once
	idle chan struct{}
}

func (c *idleConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if bytes.Contains(p[:n], []byte("+ idling")) {
		c.once.Do(func() { close(c.idle) })
	}
	return n, err
}

func idle(ctx context.Context, cfg *contender.Config) contender.Report {
	var keep []any // the sessions stay reachable until the process exits
	r := contender.MeasureIdle(cfg.N, func(i int) error {
		conn, err := transport.Dial(ctx, cfg.Addr, nil)
		if err != nil {
			return err
		}
		if cfg.Mode == "commands" {
			ic := &idleConn{Conn: conn, idle: make(chan struct{})}
			c, err := commands.Open(ctx, ic, nil)
			if err != nil {
				conn.Close()
				return err
			}
			errc := make(chan error, 1)
			go func() { errc <- c.Idle(ctx, nil, func(codec.Response) bool { return true }) }()
			select {
			case <-ic.idle:
			case err := <-errc:
				return fmt.Errorf("IDLE ended: %v", err)
			case <-ctx.Done():
				return ctx.Err()
			}
			keep = append(keep, c)
			return nil
		}
		s, err := session.Open(ctx, conn, nil)
		if err != nil {
			conn.Close()
			return err
		}
		p, err := s.Start(ctx, &session.Command{Name: "IDLE"})
		if err != nil {
			return err
		}
		select {
		case <-p.Continuations():
		case <-p.Done():
			return fmt.Errorf("IDLE ended before its continuation request")
		case <-ctx.Done():
			return ctx.Err()
		}
		keep = append(keep, p)
		return nil
	})
	_ = keep
	return r
}
