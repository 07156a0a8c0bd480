package testserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

const dovecotInstallHint = "install it with: apt-get install -y dovecot-imapd dovecot-core"

// dovecotBinaries are the programs of the installed Dovecot.
type dovecotBinaries struct {
	dovecot string // master
	doveadm string
	imap    string // the imap service binary (libexec), used for PREAUTH streams
	version string
}

var (
	dovecotBinOnce sync.Once
	dovecotBin     *dovecotBinaries
	dovecotBinErr  error
)

// findDovecot locates the Dovecot binaries and checks the version once per
// process.
func findDovecot() (*dovecotBinaries, error) {
	dovecotBinOnce.Do(func() {
		dovecotBin, dovecotBinErr = findDovecotUncached()
	})
	return dovecotBin, dovecotBinErr
}

// Where findDovecot looks besides $PATH.
var (
	dovecotSbinDirs    = []string{"/usr/sbin", "/usr/local/sbin"}
	dovecotBinDirs     = []string{"/usr/bin", "/usr/local/bin"}
	dovecotLibexecDirs = []string{"/usr/lib/dovecot", "/usr/libexec/dovecot", "/usr/local/libexec/dovecot", "/usr/local/lib/dovecot"}
)

func findDovecotUncached() (*dovecotBinaries, error) {
	return findDovecotIn(true, dovecotSbinDirs, dovecotBinDirs, dovecotLibexecDirs)
}

func findDovecotIn(usePath bool, sbinDirs, binDirs, libexecDirs []string) (*dovecotBinaries, error) {
	find := func(name string, dirs []string) string {
		if usePath {
			if p, err := exec.LookPath(name); err == nil {
				return p
			}
		}
		for _, d := range dirs {
			p := filepath.Join(d, name)
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
				return p
			}
		}
		return ""
	}
	b := &dovecotBinaries{
		dovecot: find("dovecot", sbinDirs),
		doveadm: find("doveadm", binDirs),
	}
	if b.dovecot == "" {
		return nil, fmt.Errorf("dovecot binary not found (searched $PATH and %s); %s", strings.Join(sbinDirs, ", "), dovecotInstallHint)
	}
	if b.doveadm == "" {
		return nil, fmt.Errorf("doveadm binary not found (searched $PATH and %s); %s", strings.Join(binDirs, ", "), dovecotInstallHint)
	}
	for _, d := range libexecDirs {
		p := filepath.Join(d, "imap")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			b.imap = p
			break
		}
	}
	if b.imap == "" {
		return nil, fmt.Errorf("dovecot's imap binary not found in %s; %s", strings.Join(libexecDirs, ", "), dovecotInstallHint)
	}
	out, err := exec.Command(b.dovecot, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --version: %v; %s", b.dovecot, err, dovecotInstallHint)
	}
	b.version = strings.TrimSpace(string(out))
	if !strings.HasPrefix(b.version, "2.3.") {
		return nil, fmt.Errorf("unsupported Dovecot version %q at %s: the test configuration is written for Dovecot 2.3 (Debian bookworm: apt-get install -y dovecot-imapd dovecot-core)", b.version, b.dovecot)
	}
	return b, nil
}

// dovecot is the backend for Kind Dovecot.
type dovecot struct {
	bin       *dovecotBinaries
	dir       string
	conf      string // DIR/dovecot.conf
	logFile   string // DIR/dovecot.log (Dovecot's own log)
	outFile   string // DIR/dovecot.stderr (master's stdout/stderr, e.g. config errors)
	baseDir   string
	extraBase string // baseDir when it lives outside dir (long dir names); removed by stop
	instance  string
	owner     *mailOwner // nil when not running as root

	proc *process

	seedMu sync.Mutex
}

// mailOwner is the unprivileged system user that owns the mail store when
// the server runs as root.
type mailOwner struct {
	name     string
	uid, gid int
}

const vmailUser = "vmail"

func (d *dovecot) start(s *Server, tm *tlsMaterial, opts *Options) (err error) {
	d.bin, err = findDovecot()
	if err != nil {
		return err
	}
	d.dir = s.Dir
	d.conf = filepath.Join(d.dir, "dovecot.conf")
	d.logFile = filepath.Join(d.dir, "dovecot.log")
	d.outFile = filepath.Join(d.dir, "dovecot.stderr")
	d.instance = "imapkit-" + randHex(4)

	cfg := &dovecotConfig{
		Dir:         d.dir,
		Instance:    d.instance,
		CertFile:    tm.certFile,
		KeyFile:     tm.keyFile,
		CAFile:      tm.caFile,
		ClientCerts: opts.ClientCerts,
	}
	if os.Geteuid() == 0 {
		if err := checkSystemUsers("dovecot", "dovenull"); err != nil {
			return err
		}
		d.owner, err = ensureVmail()
		if err != nil {
			return err
		}
		if err := makeTraversable(d.dir); err != nil {
			return err
		}
		cfg.Root = true
		cfg.MailUID, cfg.MailGID = d.owner.uid, d.owner.gid
	} else {
		u, err := user.Current()
		if err != nil {
			return fmt.Errorf("current user: %w", err)
		}
		g, err := user.LookupGroupId(u.Gid)
		if err != nil {
			return fmt.Errorf("current group: %w", err)
		}
		cfg.RunUser, cfg.RunGroup = u.Username, g.Name
		cfg.MailUID, _ = strconv.Atoi(u.Uid)
		cfg.MailGID, _ = strconv.Atoi(u.Gid)
	}

	defer func() {
		if err != nil && d.extraBase != "" {
			os.RemoveAll(d.extraBase)
		}
	}()
	if err := d.prepareDirs(); err != nil {
		return err
	}
	cfg.BaseDir = d.baseDir
	if err := d.writeUsers(); err != nil {
		return err
	}

	const attempts = 5
	for attempt := 1; ; attempt++ {
		ports, err := freePorts(2)
		if err != nil {
			return err
		}
		cfg.PlainPort, cfg.TLSPort = ports[0], ports[1]
		conf, err := cfg.render()
		if err != nil {
			return fmt.Errorf("rendering dovecot.conf: %w", err)
		}
		if err := os.WriteFile(d.conf, conf, 0o644); err != nil {
			return err
		}
		logStart, outStart := fileSize(d.logFile), fileSize(d.outFile)
		s.PlainAddr = fmt.Sprintf("127.0.0.1:%d", cfg.PlainPort)
		s.TLSAddr = fmt.Sprintf("127.0.0.1:%d", cfg.TLSPort)
		err = d.startOnce(s, logStart)
		if err == nil {
			return nil
		}
		if attempt < attempts && (errors.Is(err, errForeignServer) || addrInUse(d.logFile, logStart) || addrInUse(d.outFile, outStart)) {
			continue // another process grabbed one of the ports: try others
		}
		return fmt.Errorf("%w%s%s", err, logTail(d.logFile, 3000), outTail(d.outFile))
	}
}

// startOnce starts the master process and waits until it serves. On
// failure the process is stopped again. logStart is the size of the log
// before the start: only later lines are this master's.
func (d *dovecot) startOnce(s *Server, logStart int64) error {
	out, err := os.OpenFile(d.outFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer out.Close() // the child has its own copy
	cmd := exec.Command(d.bin.dovecot, "-F", "-c", d.conf)
	cmd.Dir = d.dir
	cmd.Stdin = nil
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C"}
	p, err := startProcess(cmd)
	if err != nil {
		return fmt.Errorf("running %s: %w", d.bin.dovecot, err)
	}
	d.proc = p
	deadline := time.Now().Add(15 * time.Second)
	err = waitBound(d.logFile, logStart, p.exited, deadline)
	if err == nil {
		err = waitReady(s.PlainAddr, s.TLSAddr, d.instance, s.TLSConfig(), p.exited, time.Until(deadline))
	}
	if err != nil {
		select {
		case <-p.exited:
			err = fmt.Errorf("%w (%s -F -c %s: %v)", err, d.bin.dovecot, d.conf, p.waitErr)
		default:
		}
		if stopErr := d.stopProcess(); stopErr != nil {
			err = fmt.Errorf("%w (and stopping it: %v)", err, stopErr)
		}
		d.proc = nil
		return err
	}
	return nil
}

// startedMarker is in the line Dovecot's master logs once it has bound
// all its listeners: "master: Info: Dovecot v2.3.19.1 (...) starting up
// for imap". The master binds every listener (and exits with "Address
// already in use" if one is taken) before it logs this line and writes
// master.pid (seen with strace: listen(2) on both ports, then the line).
const startedMarker = " starting up"

// waitBound waits until the master logged startedMarker into logFile
// after offset: from then on the configured ports are the master's own,
// so what answers on them is this Dovecot.
//
// Dialing before that is wrong: the ports come from freePorts, and
// another process (another test's fake server, proxy or Go listener) may
// have bound one of them in between. A dial then reaches that process,
// which may close the connection without a word ("reading greeting:
// EOF") before this master has even tried its bind and failed; the start
// was stopped as failed, with an empty log and no "Address already in
// use" to retry on (CI flake under load, in tests of cmd/imapkit, which
// run many such listeners in parallel: TestPortTakenByClosingServer).
func waitBound(logFile string, offset int64, exited <-chan struct{}, deadline time.Time) error {
	for {
		if b, err := os.ReadFile(logFile); err == nil && int64(len(b)) > offset &&
			bytes.Contains(b[offset:], []byte(startedMarker)) {
			return nil
		}
		select {
		case <-exited:
			return errors.New("server process exited during start")
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("master did not log %q (listeners bound) within the start timeout", strings.TrimSpace(startedMarker))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// prepareDirs creates the state, base and mail directories.
func (d *dovecot) prepareDirs() error {
	for _, sub := range []string{"state"} {
		if err := os.Mkdir(filepath.Join(d.dir, sub), 0o755); err != nil {
			return err
		}
	}
	// Unix socket paths are limited to 107 bytes; the longest socket
	// Dovecot creates is base_dir + "/token-login/imap-urlauth" (25
	// bytes). Long t.TempDir() names (long test names) exceed it, so then
	// base_dir moves to a short directory, linked from DIR/run.
	d.baseDir = filepath.Join(d.dir, "run")
	if len(d.baseDir)+32 > 104 {
		parent := os.TempDir()
		if len(parent) > 40 {
			parent = "/tmp"
		}
		short, err := os.MkdirTemp(parent, "imapkit-")
		if err != nil {
			return err
		}
		if err := os.Chmod(short, 0o755); err != nil {
			os.RemoveAll(short)
			return err
		}
		if err := os.Symlink(short, d.baseDir); err != nil {
			os.RemoveAll(short)
			return err
		}
		d.baseDir, d.extraBase = short, short
	}
	mail := filepath.Join(d.dir, "mail")
	if err := os.Mkdir(mail, 0o755); err != nil {
		return err
	}
	if err := d.chown(mail); err != nil {
		return err
	}
	for _, u := range Users() {
		home := filepath.Join(mail, u)
		if err := os.Mkdir(home, 0o700); err != nil {
			return err
		}
		if err := d.chown(home); err != nil {
			return err
		}
	}
	return nil
}

// writeUsers writes the passwd-files: DIR/users (alice, bob, tiny) and
// DIR/masters (master). Passwords are stored in plaintext ({PLAIN}), which
// every SASL mechanism (PLAIN, LOGIN, CRAM-MD5, SCRAM-*) can use.
func (d *dovecot) writeUsers() error {
	users := fmt.Sprintf(""+
		"%s:{PLAIN}%s::::::\n"+
		"%s:{PLAIN}%s::::::\n"+
		"%s:{PLAIN}%s::::::userdb_quota_rule=*:storage=%dK\n",
		Alice, Password, Bob, Password, TinyUser, Password, TinyQuotaKiB)
	masters := fmt.Sprintf("%s:{PLAIN}%s\n", MasterUser, MasterPassword)
	// The auth process runs as the dovecot user: the files must be
	// readable by it. They hold nothing but the well-known test passwords.
	if err := os.WriteFile(filepath.Join(d.dir, "users"), []byte(users), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(d.dir, "masters"), []byte(masters), 0o644)
}

func (d *dovecot) chown(path string) error {
	if d.owner == nil {
		return nil
	}
	return os.Lchown(path, d.owner.uid, d.owner.gid)
}

func (d *dovecot) stop() error {
	var errs []error
	if d.proc != nil {
		errs = append(errs, d.stopProcess())
	}
	if d.extraBase != "" {
		if err := os.RemoveAll(d.extraBase); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// stopGrace is how long a SIGTERMed Dovecot may take to exit before it is
// killed and the stop reported as failed. It takes milliseconds on a quiet
// machine; 5 s was once too little in a full -race run of make test on 2
// cores with other work running (TestProxyPlainByteIdentical's cleanup),
// so the margin is wide: a master that truly hangs is still reported.
const stopGrace = 15 * time.Second

// stopProcess sends SIGTERM to the master (which stops its children),
// waits for it, kills the whole process group after stopGrace, and finally
// makes sure no process of this instance survives.
func (d *dovecot) stopProcess() error {
	p := d.proc
	var errs []error
	if err := p.terminate(stopGrace); err != nil {
		errs = append(errs, err)
	}
	if err := killLeftovers(p.pgid, d.markers(), 3*time.Second); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// markers are strings in the command line of every process of this
// instance: Dovecot titles its processes "dovecot-INSTANCE/service".
func (d *dovecot) markers() []string {
	return []string{"dovecot-" + d.instance + "/", d.conf}
}

func (d *dovecot) streamCommand(user string) []string {
	return []string{d.bin.imap, "-c", d.conf, "-u", user}
}

// doveadm runs doveadm with this server's configuration.
func (d *dovecot) doveadm(args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, d.bin.doveadm, append([]string{"-c", d.conf}, args...)...)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C"}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("doveadm %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// checkSystemUsers verifies that Dovecot's internal users exist.
func checkSystemUsers(names ...string) error {
	for _, n := range names {
		if _, err := user.Lookup(n); err != nil {
			return fmt.Errorf("system user %q, which Dovecot needs, does not exist (%v); the Debian package creates it: apt-get install --reinstall dovecot-core", n, err)
		}
	}
	return nil
}

var vmailMu sync.Mutex

// ensureVmail returns the vmail system user, creating it with useradd if
// needed. Concurrent test processes may race to create it, so a failing
// useradd is followed by a few lookups.
func ensureVmail() (*mailOwner, error) {
	vmailMu.Lock()
	defer vmailMu.Unlock()
	lookup := func() (*mailOwner, error) {
		u, err := user.Lookup(vmailUser)
		if err != nil {
			return nil, err
		}
		uid, err1 := strconv.Atoi(u.Uid)
		gid, err2 := strconv.Atoi(u.Gid)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("user %s has non-numeric uid/gid %s/%s", vmailUser, u.Uid, u.Gid)
		}
		return &mailOwner{name: vmailUser, uid: uid, gid: gid}, nil
	}
	if o, err := lookup(); err == nil {
		return o, nil
	}
	useradd := "/usr/sbin/useradd"
	if p, err := exec.LookPath("useradd"); err == nil {
		useradd = p
	}
	out, addErr := exec.Command(useradd, "--system", "--user-group", "--no-create-home",
		"--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin",
		"--comment", "imapkit test mail owner", vmailUser).CombinedOutput()
	for i := 0; i < 20; i++ {
		if o, err := lookup(); err == nil {
			return o, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil, fmt.Errorf("creating system user %s with %s: %v: %s", vmailUser, useradd, addErr, strings.TrimSpace(string(out)))
}

// makeTraversable adds search permission for everybody to dir and every
// ancestor that lacks it, so that the mail user (vmail) and Dovecot's
// internal users can reach dir. t.TempDir() creates 0700 directories.
func makeTraversable(dir string) error {
	for p := dir; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if mode := fi.Mode().Perm(); mode&0o011 != 0o011 {
			if err := os.Chmod(p, mode|0o011); err != nil {
				return fmt.Errorf("making %s traversable for the mail user: %w", p, err)
			}
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// addrInUse reports whether the log, from offset on, reports a bind
// failure.
func addrInUse(logFile string, offset int64) bool {
	b, err := os.ReadFile(logFile)
	if err != nil || int64(len(b)) < offset {
		return false
	}
	return bytes.Contains(b[offset:], []byte("Address already in use"))
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func outTail(path string) string {
	if fileSize(path) == 0 {
		return ""
	}
	return logTail(path, 2000)
}

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b)
}
