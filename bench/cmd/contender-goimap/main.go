// Command contender-goimap is go-imap v2's contender in the end-to-end
// comparison (bench/cmd/compare): it runs one job (see package
// bench/internal/contender) with github.com/emersion/go-imap/v2/imapclient
// and prints a report. go-imap has no context.Context; the job's timeout
// is a deadline on the connection.
package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/imapkit/imapkit/bench/internal/contender"
)

func main() {
	cfg := contender.Parse()
	deadline := time.Now().Add(cfg.Timeout)
	if cfg.Job == contender.JobIdle {
		contender.Emit(idle(cfg, deadline))
	}
	c, err := dial(cfg, deadline)
	if err != nil {
		contender.Fail(err)
	}
	var r contender.Report
	switch cfg.Job {
	case contender.JobMeta, contender.JobBody:
		r, err = fetch(c, cfg)
	case contender.JobStoreSeq, contender.JobStorePipe:
		r, err = store(c, cfg)
	default:
		err = fmt.Errorf("job %q not supported", cfg.Job)
	}
	if err == nil {
		err = c.Logout().Wait()
	}
	if err != nil {
		contender.Fail(err)
	}
	contender.Emit(r)
}

func dial(cfg *contender.Config, deadline time.Time) (*imapclient.Client, error) {
	var conn net.Conn
	var err error
	d := &net.Dialer{Deadline: deadline}
	if cfg.TLS {
		tc, terr := cfg.TLSConfig()
		if terr != nil {
			return nil, terr
		}
		conn, err = tls.DialWithDialer(d, "tcp", cfg.Addr, tc)
	} else {
		conn, err = d.Dial("tcp", cfg.Addr)
	}
	if err != nil {
		return nil, err
	}
	conn.SetDeadline(deadline)
	c := imapclient.New(conn, nil)
	if err := c.WaitGreeting(); err != nil {
		c.Close()
		return nil, err
	}
	if err := c.Login(cfg.User, cfg.Pass).Wait(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func fetch(c *imapclient.Client, cfg *contender.Config) (contender.Report, error) {
	var r contender.Report
	if _, err := c.Select(cfg.Mailbox, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		return r, err
	}
	opts := &imap.FetchOptions{UID: true, Flags: true, InternalDate: true, RFC822Size: true, Envelope: true,
		BodyStructure: &imap.FetchItemBodyStructure{Extended: true}}
	if cfg.Job == contender.JobBody {
		opts = &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}}
	}
	var all imap.SeqSet
	all.AddRange(1, 0)
	cmd := c.Fetch(all, opts)
	for {
		msg := cmd.Next()
		if msg == nil {
			break
		}
		r.Messages++
		env, bs := false, false
		for {
			item := msg.Next()
			if item == nil {
				break
			}
			switch item := item.(type) {
			case imapclient.FetchItemDataUID:
				r.UIDSum += uint64(item.UID)
			case imapclient.FetchItemDataEnvelope:
				env = item.Envelope != nil
			case imapclient.FetchItemDataBodyStructure:
				bs = item.BodyStructure != nil
			case imapclient.FetchItemDataBodySection:
				n, err := io.Copy(io.Discard, item.Literal)
				r.Bytes += n
				if err != nil {
					return r, err
				}
			}
		}
		if cfg.Job == contender.JobMeta && (!env || !bs) {
			return r, fmt.Errorf("message %d: no ENVELOPE or BODYSTRUCTURE", r.Messages)
		}
	}
	return r, cmd.Close()
}

func store(c *imapclient.Client, cfg *contender.Config) (contender.Report, error) {
	var r contender.Report
	if _, err := c.Select(cfg.Mailbox, nil).Wait(); err != nil {
		return r, err
	}
	op := imap.StoreFlagsAdd
	if cfg.Op == "-" {
		op = imap.StoreFlagsDel
	}
	flags := &imap.StoreFlags{Op: op, Flags: []imap.Flag{imap.FlagFlagged}}
	wait := func(cmd *imapclient.FetchCommand) error {
		msgs, err := cmd.Collect()
		if err != nil {
			return err
		}
		r.Commands++
		r.Messages += len(msgs)
		return nil
	}
	if cfg.Job == contender.JobStoreSeq {
		for uid := 1; uid <= cfg.N; uid++ {
			if err := wait(c.Store(imap.UIDSetNum(imap.UID(uid)), flags, nil)); err != nil {
				return r, err
			}
		}
		return r, nil
	}
	cmds := make([]*imapclient.FetchCommand, cfg.N)
	for i := range cmds {
		cmds[i] = c.Store(imap.UIDSetNum(imap.UID(i+1)), flags, nil)
	}
	for _, cmd := range cmds {
		if err := wait(cmd); err != nil {
			return r, err
		}
	}
	return r, nil
}

func idle(cfg *contender.Config, deadline time.Time) contender.Report {
	var keep []any // the sessions stay reachable until the process exits
	r := contender.MeasureIdle(cfg.N, func(i int) error {
		conn, err := (&net.Dialer{Deadline: deadline}).Dial("tcp", cfg.Addr)
		if err != nil {
			return err
		}
		c := imapclient.New(conn, nil)
		if err := c.WaitGreeting(); err != nil {
			c.Close()
			return err
		}
		cmd, err := c.Idle() // returns once the server's "+" has come
		if err != nil {
			c.Close()
			return err
		}
		keep = append(keep, c, cmd)
		return nil
	})
	_ = keep
	return r
}
