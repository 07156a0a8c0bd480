package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"path/filepath"
	"strings"
)

// runExportCommand is the export command: export's serverCmd for one URL,
// or, with --accounts, one export per account of the file (this shard's).
func runExportCommand(env *sysEnv, stdin io.Reader, args []string, stdout, stderr io.Writer) int {
	if !hasFlag(args, "accounts") {
		return exportCommand.main(env, stdin, args, stdout, stderr)
	}
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf connFlags
	cf.register(fs, env)
	e := exportCommand.flags(fs).(*exportOpts)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	o := &output{stdin: stdin, stdout: stdout, stderr: stderr, json: cf.json}
	if len(pos) != 1 || isURL(pos[0]) {
		return exitCode(env, stderr, "export", usagef("usage: imapkit export --accounts FILE [--shard i/n] MAILBOX --to DIR (the URLs come from FILE)"))
	}
	if e.to == "" {
		return exitCode(env, stderr, "export", usagef("export: --to DIR is required"))
	}
	mailbox := pos[0]
	accts, shard, dir := e.accounts, e.shard, e.to
	err = runAccounts(env.ctx(), accts, shard, pos, o, func(ctx context.Context, a account) error {
		t, err := parseURL(a.src)
		if err != nil {
			return err
		}
		acf := cf
		if a.srcPasswordFile != "" {
			acf.passwordFile = a.srcPasswordFile
		}
		ae := *e
		ae.accounts, ae.shard = "", ""
		ae.to = exportAccountPath(dir, t, firstNonEmpty(acf.user, t.user), mailbox, e.format)
		if err := makeDir("the account's export directory", filepath.Dir(ae.to)); err != nil {
			return err
		}
		if err := exportPathUsable(ae.format, ae.to); err != nil {
			return err
		}
		l, err := lockExport(ae.to)
		if err != nil {
			return err
		}
		defer l.unlock()
		ae.state, ae.lock = l.path, l
		cn, err := acf.connect(ctx, t, stdin, stderr)
		if err != nil {
			return err
		}
		defer cn.close()
		return runExport(ctx, cn, []string{mailbox}, &ae, o)
	})
	return exitCode(env, stderr, "export", err)
}

// exportAccountPath is where --accounts puts an account's export:
// DIR/USER@HOST_PORT/MAILBOX, with ".mbox" for an mbox, and the mailbox's
// hierarchy flattened ("/" becomes "_").
func exportAccountPath(dir string, t *target, user, mailbox, format string) string {
	host, port, _ := net.SplitHostPort(t.addr)
	safe := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r == '/' || r == '\\' || r == 0 || r < ' ' {
				return '_'
			}
			return r
		}, s)
	}
	name := safe(mailbox)
	if name == "." || name == ".." {
		name = "_" + name
	}
	if format == "mbox" {
		name += ".mbox"
	}
	return filepath.Join(dir, safe(user+"@"+host+"_"+port), name)
}

// hasFlag reports whether args hold -name or --name (with or without
// =value) before any "--".
func hasFlag(args []string, name string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if !strings.HasPrefix(a, "-") {
			continue
		}
		a = strings.TrimLeft(a, "-")
		if a == name || strings.HasPrefix(a, name+"=") {
			return true
		}
	}
	return false
}
