package testserver

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/mail"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// seedSeq makes Maildir file names unique across SeedMailbox calls.
var seedSeq atomic.Int64

// seedMailbox writes msgs as Maildir files straight into the mailbox
// directory and then runs "doveadm force-resync" so that Dovecot indexes
// them. UIDs are assigned in the order of msgs: Dovecot sorts new files by
// the time stamp and then the microsecond ("M") field of their names,
// which we set to the message's index.
func (d *dovecot) seedMailbox(user, mailbox string, msgs [][]byte) error {
	d.seedMu.Lock()
	defer d.seedMu.Unlock()

	dir, err := d.mailboxDir(user, mailbox)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, "cur")); errors.Is(err, fs.ErrNotExist) {
		if err := d.createMailbox(user, mailbox, dir); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	if len(msgs) > 0 {
		if err := d.writeMaildir(dir, msgs); err != nil {
			return err
		}
	}
	// Maildir++ quota caches usage in maildirsize; without it Dovecot
	// recalculates the usage on the next access.
	if err := os.Remove(filepath.Join(d.dir, "mail", user, "Maildir", "maildirsize")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	_, err = d.doveadm("force-resync", "-u", user, mailbox)
	return err
}

// mailboxDir asks Dovecot for the Maildir directory of mailbox.
func (d *dovecot) mailboxDir(user, mailbox string) (string, error) {
	out, err := d.doveadm("mailbox", "path", "-u", user, mailbox)
	if err != nil {
		return "", err
	}
	dir := strings.TrimSpace(string(out))
	if !filepath.IsAbs(dir) || !strings.HasPrefix(dir, filepath.Join(d.dir, "mail")+string(filepath.Separator)) {
		return "", fmt.Errorf("unexpected mailbox path %q from doveadm", dir)
	}
	return dir, nil
}

// createMailbox creates mailbox with doveadm. INBOX cannot be "created";
// its Maildir directories are made directly.
func (d *dovecot) createMailbox(user, mailbox, dir string) error {
	if strings.EqualFold(mailbox, "INBOX") {
		for _, p := range []string{dir, filepath.Join(dir, "cur"), filepath.Join(dir, "new"), filepath.Join(dir, "tmp")} {
			if err := os.Mkdir(p, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
				return err
			}
			if err := d.chown(p); err != nil {
				return err
			}
		}
		return nil
	}
	if _, err := d.doveadm("mailbox", "create", "-u", user, mailbox); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, "cur")); err != nil {
		return fmt.Errorf("mailbox %q created but %s/cur: %w", mailbox, dir, err)
	}
	return nil
}

// writeMaildir writes msgs into dir/tmp in parallel, then renames them
// into dir/cur in order.
func (d *dovecot) writeMaildir(dir string, msgs [][]byte) error {
	secs := time.Now().Unix()
	pid := os.Getpid()
	base := seedSeq.Add(int64(len(msgs))) - int64(len(msgs))
	names := make([]string, len(msgs))
	for k, m := range msgs {
		names[k] = fmt.Sprintf("%d.M%dP%dQ%d.imapkit,S=%d:2,", secs, k, pid, base+int64(k), len(m))
	}
	tmp := filepath.Join(dir, "tmp")
	cur := filepath.Join(dir, "cur")

	workers := runtime.GOMAXPROCS(0) * 2
	if workers > 8 {
		workers = 8
	}
	var (
		wg       sync.WaitGroup
		next     atomic.Int64
		errOnce  sync.Once
		firstErr error
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(next.Add(1) - 1)
				if k >= len(msgs) {
					return
				}
				if err := d.writeMessage(filepath.Join(tmp, names[k]), msgs[k]); err != nil {
					errOnce.Do(func() { firstErr = err })
					next.Store(int64(len(msgs))) // stop the other workers
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr == nil {
		for k, name := range names {
			if err := os.Rename(filepath.Join(tmp, name), filepath.Join(cur, name)); err != nil {
				firstErr = err
				names = names[k:]
				break
			}
		}
		if firstErr == nil {
			return nil
		}
	}
	for _, name := range names {
		os.Remove(filepath.Join(tmp, name))
	}
	return firstErr
}

// writeMessage writes one message file, owned by the mail user, with its
// modification time (Dovecot's INTERNALDATE for Maildir) set from the Date
// header.
func (d *dovecot) writeMessage(path string, msg []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(msg)
	if err == nil && d.owner != nil {
		err = f.Chown(d.owner.uid, d.owner.gid)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return err
	}
	if t, ok := headerDate(msg); ok {
		if err := os.Chtimes(path, t, t); err != nil {
			os.Remove(path)
			return err
		}
	}
	return nil
}

// headerDate returns the parsed Date header of msg, if any.
func headerDate(msg []byte) (time.Time, bool) {
	end := bytes.Index(msg, []byte("\r\n\r\n"))
	if end < 0 {
		end = bytes.Index(msg, []byte("\n\n"))
	}
	if end < 0 {
		end = len(msg)
	}
	hdr := msg[:end]
	for len(hdr) > 0 {
		line := hdr
		if i := bytes.IndexByte(hdr, '\n'); i >= 0 {
			line, hdr = hdr[:i], hdr[i+1:]
		} else {
			hdr = nil
		}
		if len(line) > 5 && strings.EqualFold(string(line[:5]), "date:") {
			v := strings.TrimSpace(string(line[5:]))
			// A folded Date header is rare; ignore continuation lines.
			t, err := mail.ParseDate(v)
			return t, err == nil
		}
	}
	return time.Time{}, false
}
