//go:build linux

package commands_test

import (
	"bufio"
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
	"testing"
	"time"
)

var cyrusOnce sync.Mutex

const cyrusBin = "/usr/lib/cyrus/bin/master"

// startCyrus (copied from auth/cyrus_test.go, with ANNOTATEMORE on) starts a private Cyrus imapd on a free loopback port with a
// sasldb holding alice (password "pass") and the admin "admin" (password
// "adminpass"). It needs root (the master
// drops to the cyrus user) and the Debian packages cyrus-imapd and
// sasl2-bin (.ci/install-deps); a missing one fails the test.
func startCyrus(t *testing.T) string {
	cyrusOnce.Lock()
	defer cyrusOnce.Unlock()
	t.Helper()
	if _, err := os.Stat(cyrusBin); err != nil {
		t.Fatalf("Cyrus imapd not found (%v): apt-get install cyrus-imapd sasl2-bin", err)
	}
	saslpasswd, err := exec.LookPath("saslpasswd2")
	if err != nil {
		t.Fatalf("saslpasswd2 not found: apt-get install sasl2-bin")
	}
	if os.Geteuid() != 0 {
		t.Fatal("the Cyrus test server needs root (its master runs as the cyrus user)")
	}
	cy, err := user.Lookup("cyrus")
	if err != nil {
		t.Fatalf("user cyrus: %v", err)
	}
	uid, _ := strconv.Atoi(cy.Uid)
	gid, _ := strconv.Atoi(cy.Gid)
	dir, err := os.MkdirTemp("", "imapkit-cyrus-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	host, _ := os.Hostname()
	files := map[string]string{
		"imapd.conf": fmt.Sprintf(`configdirectory: %[1]s/conf
defaultpartition: default
partition-default: %[1]s/part
sievedir: %[1]s/sieve
admins: admin
allowplaintext: yes
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: %[1]s/sasldb2
sasl_mech_list: PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256
unixhierarchysep: yes
syslog_prefix: imapkit-cyrus
annotation_enable_legacy_commands: yes
annotation_allow_undefined: yes
conversations: yes
`, dir),
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
		os.Mkdir(filepath.Join(dir, d), 0o750)
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for u, p := range map[string]string{"alice": "pass", "admin": "adminpass"} {
		cmd := exec.Command(saslpasswd, "-p", "-c", "-f", filepath.Join(dir, "sasldb2"), "-u", host, u)
		cmd.Stdin = strings.NewReader(p)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("saslpasswd2 %s: %v: %s", u, err, out)
		}
	}
	filepath.Walk(dir, func(p string, _ os.FileInfo, _ error) error { return os.Lchown(p, uid, gid) })
	os.Chmod(dir, 0o755)
	out, err := os.Create(filepath.Join(dir, "master.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(cyrusBin, "-D", "-C", filepath.Join(dir, "imapd.conf"), "-M", filepath.Join(dir, "cyrus.conf"), "-p", filepath.Join(dir, "run", "master.pid"))
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			line, err := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if err == nil && strings.HasPrefix(line, "* OK") {
				return addr
			}
		}
		select {
		case <-exited:
			b, _ := os.ReadFile(filepath.Join(dir, "master.log"))
			t.Fatalf("Cyrus master exited during start: %s", b)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("Cyrus not ready on %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
