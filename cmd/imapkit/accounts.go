package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"strconv"
	"strings"
)

// An accounts file lists one account per line, for export and copy:
//
//	# comment
//	SRC-URL [DST-URL] [password-file=FILE] [dst-password-file=FILE]
//
// Fields are separated by blanks. Blank lines and lines starting with "#"
// are skipped. --shard i/n picks the lines whose stable hash (FNV-1a of the
// line without its surrounding blanks) is i-1 modulo n: every line is in
// exactly one shard, whatever the order of the file, so n processes with
// shards 1/n .. n/n do every account once.

// account is one line of an accounts file.
type account struct {
	line            int // 1-based
	text            string
	src, dst        string
	srcPasswordFile string
	dstPasswordFile string
}

// maxAccountLine bounds a line of an accounts file.
const maxAccountLine = 64 << 10

// parseAccounts reads an accounts file.
func parseAccounts(name string) ([]account, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 4096), maxAccountLine)
	var out []account
	for n := 1; sc.Scan(); n++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		a := account{line: n, text: text}
		for _, f := range strings.Fields(text) {
			k, v, isOpt := strings.Cut(f, "=")
			switch {
			case isURL(f) && a.src == "":
				a.src = f
			case isURL(f) && a.dst == "":
				a.dst = f
			case isOpt && k == "password-file" && v != "":
				a.srcPasswordFile = v
			case isOpt && k == "dst-password-file" && v != "":
				a.dstPasswordFile = v
			default:
				return nil, usagef("%s line %d: %q is neither an imap[s]:// URL nor password-file=FILE or dst-password-file=FILE", printable(name), n, redactURL(f))
			}
		}
		if a.src == "" {
			return nil, usagef("%s line %d: no imap[s]:// URL", printable(name), n)
		}
		out = append(out, a)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", printable(name), err)
	}
	return out, nil
}

// parseShard parses "i/n" (1 <= i <= n); "" is the whole list (1/1).
func parseShard(s string) (i, n int, err error) {
	if s == "" {
		return 1, 1, nil
	}
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return 0, 0, usagef("bad --shard %q: want i/n with 1 <= i <= n, e.g. 3/8", s)
	}
	return i, n, nil
}

// inShard reports whether an account line belongs to shard i of n.
func inShard(text string, i, n int) bool {
	h := fnv.New64a()
	h.Write([]byte(strings.TrimSpace(text)))
	return int(h.Sum64()%uint64(n)) == i-1
}

// shardOf returns the accounts of shard i of n.
func shardOf(accts []account, i, n int) []account {
	var out []account
	for _, a := range accts {
		if inShard(a.text, i, n) {
			out = append(out, a)
		}
	}
	return out
}

// runAccounts runs fn for every account of this shard, one after the
// other. A failed account is reported on stderr and the others go on; the
// result is the first error. An interruption stops at once.
func runAccounts(ctx context.Context, file, shard string, _ []string, o *output, fn func(context.Context, account) error) error {
	i, n, err := parseShard(shard)
	if err != nil {
		return err
	}
	accts, err := parseAccounts(file)
	if err != nil {
		return err
	}
	var first error
	failed, mine := 0, shardOf(accts, i, n)
	for _, a := range mine {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := fn(ctx, a)
		if err == nil {
			continue
		}
		var ue *usageError
		if errors.As(err, &ue) || ctx.Err() != nil {
			return err
		}
		err = fmt.Errorf("%s line %d (%s): %w", printable(file), a.line, printable(redactURL(a.src)), err)
		fmt.Fprintf(o.stderr, "imapkit: %s\n", errorLine(err))
		if first == nil {
			first = err
		}
		failed++
	}
	if first != nil {
		return &accountsError{failed: failed, total: len(mine), first: first}
	}
	return nil
}

// accountsError reports the accounts that failed (each was reported on
// stderr already); its exit code is the first failure's.
type accountsError struct {
	failed, total int
	first         error
}

func (e *accountsError) Error() string {
	return fmt.Sprintf("%d of %d accounts failed", e.failed, e.total)
}

func (e *accountsError) Unwrap() error { return e.first }
