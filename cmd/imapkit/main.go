// Command imapkit is a toolbox for IMAP work built on the imapkit packages.
//
// Usage:
//
//	imapkit <command> [arguments]
//	imapkit help [command]
//
// The commands:
//
//	capability URL              the server's capabilities
//	list URL [PATTERN]          mailboxes, with special-use attributes
//	status URL MAILBOX          counts, UIDVALIDITY, UIDNEXT
//	search URL MAILBOX CRIT...  the UIDs of matching messages
//	fetch URL MAILBOX UID       a message or a section, to stdout
//	append URL MAILBOX [FILE]   append a message
//	idle URL MAILBOX            print events as they come
//	export URL MAILBOX --to P   export to mbox or Maildir, incrementally
//	import URL PATH --to MBOX   import an mbox or Maildir by APPEND
//	copy SRC-URL DST-URL        copy mailboxes between servers, incrementally
//	probe URL                   what a server offers, before and after TLS and login
//	select|examine URL MAILBOX  a mailbox's state
//	lsub, create, delete, rename, subscribe, unsubscribe, namespace
//	store, cp, mv, expunge      flags, copies and moves within a server, expunge
//	quota, quotaroot, setquota, acl, metadata, annotation, id
//	raw URL COMMAND...          send any command, print every response decoded
//	shell URL                   an interactive IMAP session with history
//	decode [FILE...]            decode raw server bytes (or a session trace, -trace) into one JSON object per response
//	demo                        start a throwaway Dovecot with sample mail and take a tour
//
// URL is imap://USER@HOST[:PORT] (STARTTLS required) or
// imaps://USER@HOST[:PORT]; the password comes from $IMAPKIT_PASSWORD,
// --password-file or a prompt. Run "imapkit help <command>" for a command's
// flags. See docs/cli.md for the commands, their JSON and exit codes, and
// docs/decode.md for the decode command's output.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// A command is one subcommand of imapkit.
type command struct {
	name    string
	args    string // the synopsis of its arguments, for the usage text
	summary string
	// run runs the command with the arguments after its name and returns
	// the exit code.
	run func(env *sysEnv, stdin io.Reader, args []string, stdout, stderr io.Writer) int
}

// cmdTable is the table of subcommands: adding one is one line here.
var cmdTable = []command{
	{"decode", "[-max-body N] [-trace] [FILE...]", "decode raw server bytes into one JSON object per response", noEnv(runDecode)},
	{"demo", "[-messages N] [-trace] [-keep]", "start a throwaway Dovecot with sample mail and drive it", runDemo},
	{"export", "[flags] URL MAILBOX --to PATH [--format mbox|maildir]", exportCommand.summary, runExportCommand},
	{"copy", "[flags] SRC-URL DST-URL [MAILBOX...]", "copy mailboxes between servers, incrementally (imapsync's job)", runCopyCommand},
	{"proxy", "--listen ADDR --upstream URL", "a trace proxy: relay a mail client's connection and print it, credentials redacted", runProxy},
}

// noEnv adapts a command that does not read the environment.
func noEnv(run func(stdin io.Reader, args []string, stdout, stderr io.Writer) int) func(*sysEnv, io.Reader, []string, io.Writer, io.Writer) int {
	return func(_ *sysEnv, stdin io.Reader, args []string, stdout, stderr io.Writer) int {
		return run(stdin, args, stdout, stderr)
	}
}

func init() {
	for _, sc := range serverCommands {
		cmdTable = append(cmdTable, sc.command())
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	osEnv.interrupted = ctx
	osEnv.releaseSignals = stop
	// The first Ctrl-C or SIGTERM cancels ctx: the command stops and logs
	// out (briefly: conn.close). Then the signals get their default action
	// back, so a second one ends the process at once, even if the server
	// is stalled. (The shell's own handler still catches Ctrl-C while one
	// of its commands runs.)
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := run(osEnv, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program: it dispatches args to a command and returns the
// exit code: 0 on success, 1 when the command failed, 2 for a usage error.
// env is the environment and the terminal the command reads: main passes
// the process's own (osEnv).
func run(env *sysEnv, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			if c, ok := lookup(args[1]); ok {
				// Every command prints its own usage for -h.
				return c.run(env, stdin, []string{"-h"}, stdout, stdout)
			}
			fmt.Fprintf(stderr, "imapkit: unknown command %q\n", args[1])
			usage(stderr)
			return 2
		}
		usage(stdout)
		return 0
	}
	c, ok := lookup(args[0])
	if !ok {
		fmt.Fprintf(stderr, "imapkit: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	return c.run(env, stdin, args[1:], stdout, stderr)
}

func lookup(name string) (command, bool) {
	for _, c := range cmdTable {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: imapkit <command> [arguments]")
	fmt.Fprintln(w, "       imapkit help [command]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	for _, c := range cmdTable {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
}
