package testserver

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// CyrusBin is the Cyrus master binary StartCyrus runs (Debian's
// cyrus-imapd, unpacked beside Dovecot by .ci/install-deps).
const CyrusBin = "/usr/lib/cyrus/bin/master"

// The accounts of a Cyrus server: alice (Password) and the administrator.
const (
	CyrusAdmin         = "admin"
	CyrusAdminPassword = "adminpass"
)

// Cyrus is a running private Cyrus imapd (3.6) on a loopback port.
type Cyrus struct {
	// Addr is "127.0.0.1:port" of the plain IMAP listener.
	Addr string
	// Dir holds the configuration, the sasldb, the mail and master.log.
	Dir string

	cmd    *exec.Cmd
	exited chan struct{}
	once   sync.Once
}

// CyrusOptions changes what StartCyrusWith writes in imapd.conf; the zero
// value is StartCyrus's configuration.
type CyrusOptions struct {
	// NoConversations turns Cyrus's conversations database off
	// ("conversations: no"): no THREADID, no conversation work per
	// message. For a test that appends thousands of messages and needs
	// none of it: TestLongAnswersCyrus's 10,000 appends took 8.8 s of
	// Cyrus's CPU with it and 2.9 s without.
	NoConversations bool
}

// StartCyrus starts a Cyrus imapd whose state lives in dir (an existing
// directory the cyrus user will own), with a sasldb holding alice
// (Password) and CyrusAdmin (CyrusAdminPassword), "admins: admin",
// "unixhierarchysep: yes" and ANNOTATEMORE on. The administrator creates
// mailboxes ("CREATE user/alice"). It needs root (the master drops to the
// cyrus user), CyrusBin and saslpasswd2; a missing one is an error. Cyrus
// logs only to syslog; the master's own output is in DIR/master.log.
func StartCyrus(dir string) (*Cyrus, error) { return StartCyrusWith(dir, CyrusOptions{}) }

// StartCyrusWith is StartCyrus with the configuration opts changes.
func StartCyrusWith(dir string, opts CyrusOptions) (*Cyrus, error) {
	if _, err := os.Stat(CyrusBin); err != nil {
		return nil, fmt.Errorf("testserver: Cyrus imapd not found (%v): see .ci/install-deps", err)
	}
	saslpasswd, err := exec.LookPath("saslpasswd2")
	if err != nil {
		return nil, errors.New("testserver: saslpasswd2 not found: apt-get install sasl2-bin")
	}
	if os.Geteuid() != 0 {
		return nil, errors.New("testserver: Cyrus needs root (its master runs as the cyrus user)")
	}
	cy, err := user.Lookup("cyrus")
	if err != nil {
		return nil, fmt.Errorf("testserver: user cyrus: %w", err)
	}
	uid, _ := strconv.Atoi(cy.Uid)
	gid, _ := strconv.Atoi(cy.Gid)
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	// The greeting names this server (servername), so that a start
	// never takes another process's listener for it: the port is free
	// when chosen, but another test binary's fake server may take it
	// before the master binds it, and a fake server greets "* OK" too.
	// Cyrus's default SASL realm is its servername: the sasldb entries are
	// made in it.
	var nonce [6]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, err
	}
	name := fmt.Sprintf("imapkit-%x", nonce)
	const attempts = 5
	for attempt := 1; ; attempt++ {
		c, err := startCyrusOnce(dir, name, saslpasswd, uid, gid, attempt == 1, opts)
		if err == nil || attempt == attempts || !errors.Is(err, errForeignServer) {
			return c, err
		}
	}
}

// startCyrusOnce writes the configuration (the sasldb too, when first)
// with a free port and starts the master; errForeignServer when another
// server answered on that port.
func startCyrusOnce(dir, name, saslpasswd string, uid, gid int, first bool, opts CyrusOptions) (*Cyrus, error) {
	ports, err := freePorts(1)
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	conversations := "yes"
	if opts.NoConversations {
		conversations = "no"
	}
	files := map[string]string{
		"imapd.conf": fmt.Sprintf(`configdirectory: %[1]s/conf
defaultpartition: default
partition-default: %[1]s/part
sievedir: %[1]s/sieve
admins: %[2]s
servername: %[3]s
allowplaintext: yes
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: %[1]s/sasldb2
sasl_mech_list: PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256
unixhierarchysep: yes
syslog_prefix: imapkit-cyrus
annotation_enable_legacy_commands: yes
annotation_allow_undefined: yes
conversations: %[4]s
imapidlepoll: 1
master_bind_errors_fatal: yes
`, dir, CyrusAdmin, name, conversations),
		"cyrus.conf": fmt.Sprintf(`START {
  recover cmd="ctl_cyrusdb -r -C %[1]s/imapd.conf"
}
SERVICES {
  imap cmd="imapd -C %[1]s/imapd.conf" listen="%[2]s" prefork=0
}
EVENTS {
}
DAEMON {
}
`, dir, addr),
	}
	for _, d := range []string{"conf", "part", "sieve", "run"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o750); err != nil {
			return nil, err
		}
	}
	for fn, body := range files {
		if err := os.WriteFile(filepath.Join(dir, fn), []byte(body), 0o644); err != nil {
			return nil, err
		}
	}
	if first {
		for u, p := range map[string]string{Alice: Password, CyrusAdmin: CyrusAdminPassword} {
			cmd := exec.Command(saslpasswd, "-p", "-c", "-f", filepath.Join(dir, "sasldb2"), "-u", name, u)
			cmd.Stdin = strings.NewReader(p)
			if out, err := cmd.CombinedOutput(); err != nil {
				return nil, fmt.Errorf("testserver: saslpasswd2 %s: %v: %s", u, err, out)
			}
		}
	}
	filepath.Walk(dir, func(p string, _ os.FileInfo, _ error) error { return os.Lchown(p, uid, gid) })
	os.Chmod(dir, 0o755)
	if err := makeTraversable(dir); err != nil {
		return nil, err
	}
	out, err := os.OpenFile(filepath.Join(dir, "master.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	cmd := exec.Command(CyrusBin, "-D", "-C", filepath.Join(dir, "imapd.conf"), "-M", filepath.Join(dir, "cyrus.conf"), "-p", filepath.Join(dir, "run", "master.pid"))
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &Cyrus{Addr: addr, Dir: dir, cmd: cmd, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(c.exited) }()
	deadline := time.Now().Add(15 * time.Second)
	if err := waitCyrusBound(cmd.Process.Pid, ports[0], c.exited, deadline); err != nil {
		c.Stop()
		if errors.Is(err, errMasterExited) {
			if st := cmd.ProcessState; st != nil && st.ExitCode() == exitUnavailable {
				// master_bind_errors_fatal: the bind failed (the
				// reason goes to syslog only). The port was free
				// when chosen: another process took it since.
				return nil, fmt.Errorf("testserver: Cyrus on %s: %w: the master could not bind it (%v)", addr, errForeignServer, st)
			}
			b, _ := os.ReadFile(filepath.Join(dir, "master.log"))
			return nil, fmt.Errorf("testserver: Cyrus master exited during start (%v): %s", cmd.ProcessState, b)
		}
		return nil, fmt.Errorf("testserver: Cyrus on %s: %w", addr, err)
	}
	// The master holds the listener: what answers is this Cyrus, and a
	// failure is its own, not a reason to try again.
	conn, err := net.DialTimeout("tcp", addr, time.Until(deadline))
	if err == nil {
		err = readGreeting(conn, deadline, name)
		conn.Close()
	}
	if err != nil {
		c.Stop()
		return nil, fmt.Errorf("testserver: Cyrus on %s (its master listens there): %w", addr, err)
	}
	return c, nil
}

var errMasterExited = errors.New("master exited during start")

// exitUnavailable is EX_UNAVAILABLE, the Cyrus master's exit status when
// it cannot bind a listener at startup (master_bind_errors_fatal: yes;
// without it the master runs on without the service).
const exitUnavailable = 69

// waitCyrusBound waits until the Cyrus master (pid) holds a socket
// listening on port; errForeignServer when another process listens there.
//
// The port comes from freePorts, and another process (another test's fake
// server or proxy) may bind it before the master does. Dialing the port
// before knowing whose listener answers took such a process for Cyrus;
// one that closed the connection without a greeting ("reading greeting:
// EOF") was dialed again and again until the start timed out, the master
// having logged its bind failure to syslog and run on without the
// service (TestPortTakenByClosingServer). Now the master exits on a bind
// failure (master_bind_errors_fatal, errMasterExited here), and a
// listener on the port that the master does not hold is another
// process's.
func waitCyrusBound(pid, port int, exited <-chan struct{}, deadline time.Time) error {
	for {
		select {
		case <-exited:
			return errMasterExited
		default:
		}
		inodes, err := tcpListeners(port)
		if err != nil {
			return err
		}
		if len(inodes) > 0 {
			ours, err := holdsSocket(pid, inodes)
			switch {
			case err == nil && ours:
				return nil
			case err == nil:
				// The master binds its own listener: as long as
				// this one is there, the master's bind fails.
				return fmt.Errorf("%w: another process listens on port %d", errForeignServer, port)
			case !os.IsNotExist(err):
				return err
			}
			// The master is gone (and its /proc entry): exited
			// tells why at the next round.
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the master did not listen on port %d within the start timeout", port)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// StartCyrusT starts a Cyrus in a new directory under TempBase and stops it
// when the test ends; failures are t.Fatal.
func StartCyrusT(t TB) *Cyrus {
	t.Helper()
	return StartCyrusWithT(t, CyrusOptions{})
}

// StartCyrusWithT is StartCyrusT with the configuration opts changes.
func StartCyrusWithT(t TB, opts CyrusOptions) *Cyrus {
	t.Helper()
	dir, err := os.MkdirTemp(TempBase(), "imapkit-cyrus-")
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	c, err := StartCyrusWith(dir, opts)
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() { c.Stop() })
	return c
}

// Stop stops the master and every process of its group and waits for it.
func (c *Cyrus) Stop() error {
	c.once.Do(func() {
		syscall.Kill(-c.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-c.exited:
		case <-time.After(5 * time.Second):
			syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
			<-c.exited
		}
	})
	return nil
}
