package main

import (
	"context"
	"os"
)

// sysEnv is what a run of the program takes from its process besides its
// arguments and standard streams: the environment ($IMAPKIT_URL,
// $IMAPKIT_PASSWORD, $IMAPKIT_DST_PASSWORD, $XDG_STATE_HOME), the
// terminal the password prompt opens, and the process's signals (the
// interrupted context). main passes the process's own (osEnv); tests give
// each run one of its own, so that no test changes the process's
// environment or a package variable and tests can run in parallel.
type sysEnv struct {
	// lookupEnv is os.LookupEnv's.
	lookupEnv func(key string) (string, bool)
	// openTTY opens the terminal, for the password prompt.
	openTTY func() (*os.File, error)
	// streamEnv, when set, returns NAME=VALUE assignments that --stream's
	// child gets on top of the process's environment, before the
	// passwords are taken out of it (streamArgs). The process's own
	// environment needs none: the child inherits it.
	streamEnv func() []string
	// interrupted is the context every command starts from (ctx): main
	// cancels it on SIGINT and SIGTERM, so that a command logs out or
	// stops cleanly. Nil is context.Background().
	interrupted context.Context
	// releaseSignals cancels interrupted and gives SIGINT and SIGTERM
	// their default action back at once, as main does in its own
	// goroutine after the first signal (main sets it; nil does nothing,
	// as in tests). The shell calls it before it logs out on SIGTERM, and
	// conn.close before an interrupted command's LOGOUT: a second signal
	// must not find main's handler still there, which main's goroutine
	// may not have removed yet.
	releaseSignals func()
	// testHook, when set by a test, is called at the steps of a
	// journalled append and of an export (hook): ctx carries it to them.
	testHook func(step string) error
}

// ctx returns the context the run's commands start from: interrupted,
// carrying testHook when a test set one. e may be nil (no interrupt).
func (e *sysEnv) ctx() context.Context {
	ctx := context.Background()
	if e != nil && e.interrupted != nil {
		ctx = e.interrupted
	}
	if e != nil && e.testHook != nil {
		ctx = context.WithValue(ctx, testHookKey{}, e.testHook)
	}
	return ctx
}

// release calls releaseSignals, if set. e may be nil.
func (e *sysEnv) release() {
	if e != nil && e.releaseSignals != nil {
		e.releaseSignals()
	}
}

// osEnv is the process's environment and terminal; main gives it the
// process's signals (interrupted, releaseSignals) before the run.
var osEnv = &sysEnv{
	lookupEnv: os.LookupEnv,
	openTTY:   func() (*os.File, error) { return os.OpenFile("/dev/tty", os.O_RDWR, 0) },
}

// getenv is os.Getenv's.
func (e *sysEnv) getenv(key string) string {
	v, _ := e.lookupEnv(key)
	return v
}

// hasTerminal reports whether the process has a controlling terminal
// (whether openTTY opens it). A --stream command then stays in imapkit's process group
// (transport.ExecOptions.SameProcessGroup): in a group of its own the
// terminal would take it for a background job, and its prompt on
// /dev/tty (ssh's password, passphrase or host key question) would stop
// it with SIGTTIN. In imapkit's group it can ask, and the terminal's
// Ctrl-Z and Ctrl-\ reach it along with imapkit (Ctrl-C does not: see
// streamArgs). Standard input is not the question: `append --stream 'ssh
// ...' <message` still has ssh prompt on the terminal. Without a terminal
// the command gets a group of its own, which Close kills whole.
func (e *sysEnv) hasTerminal() bool {
	f, err := e.openTTY()
	if err != nil {
		return false
	}
	f.Close()
	return true
}

// streamCommand returns the command line that starts --stream's child
// (name and args from streamArgs): as it is, unless streamEnv gives
// assignments, which an outer env(1) makes.
func (e *sysEnv) streamCommand(name string, args []string) (string, []string) {
	if e.streamEnv == nil {
		return name, args
	}
	kv := e.streamEnv()
	if len(kv) == 0 {
		return name, args
	}
	return "/usr/bin/env", append(append(append([]string{}, kv...), name), args...)
}
