package main

import "os"

// sysEnv is what a run of the program takes from its process besides its
// arguments and standard streams: the environment ($IMAPKIT_URL,
// $IMAPKIT_PASSWORD, $IMAPKIT_DST_PASSWORD, $XDG_STATE_HOME) and the
// terminal the password prompt opens. main passes the process's own
// (osEnv); tests give each run one of its own, so that no test changes the
// process's environment and tests can run in parallel.
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
}

// osEnv is the process's environment and terminal.
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
