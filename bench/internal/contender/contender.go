// Package contender is what the end-to-end contender binaries of the bench
// module share: their command line, the TLS configuration, the report
// each prints as one JSON line on stdout, and the IDLE measurement.
//
// A contender binary runs one job against one server and exits; the
// driver (bench/cmd/compare) runs each as a child process, so that its
// CPU time and peak RSS (getrusage of the child) are its own.
package contender

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"
)

// The jobs.
const (
	// JobMeta fetches UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE
	// BODYSTRUCTURE of every message of an EXAMINEd mailbox.
	JobMeta = "meta"
	// JobBody fetches UID BODY.PEEK[] of every message of an EXAMINEd
	// mailbox and reads every body.
	JobBody = "body"
	// JobStoreSeq runs N UID STORE commands (UID 1 to N, +FLAGS or -FLAGS
	// \Flagged as Op says) one after the other.
	JobStoreSeq = "store-seq"
	// JobStorePipe runs the same N UID STORE commands pipelined.
	JobStorePipe = "store-pipe"
	// JobIdle opens N sessions to a scripted server (PREAUTH) and puts each
	// in IDLE, then measures the process's memory.
	JobIdle = "idle"
)

// Config is a contender's command line.
type Config struct {
	Addr    string // host:port
	TLS     bool   // implicit TLS
	CAFile  string // PEM file of the CA to trust (TLS)
	User    string
	Pass    string
	Mailbox string
	Job     string
	Mode    string // a contender's variant, e.g. "run" or "session"
	N       int    // STORE commands or IDLE sessions
	Op      string // "+" or "-" (STORE)
	Timeout time.Duration
}

// Parse reads the command line. The password comes from the environment
// variable BENCH_PASS, so that it does not show in the process list.
func Parse() *Config {
	c := &Config{Pass: os.Getenv("BENCH_PASS")}
	flag.StringVar(&c.Addr, "addr", "", "server host:port")
	flag.BoolVar(&c.TLS, "tls", false, "implicit TLS")
	flag.StringVar(&c.CAFile, "ca", "", "PEM file of the CA to trust")
	flag.StringVar(&c.User, "user", "", "user name")
	flag.StringVar(&c.Mailbox, "mailbox", "INBOX", "mailbox")
	flag.StringVar(&c.Job, "job", JobMeta, "meta, body, store-seq, store-pipe or idle")
	flag.StringVar(&c.Mode, "mode", "", "variant of the contender")
	flag.IntVar(&c.N, "n", 1000, "STORE commands or IDLE sessions")
	flag.StringVar(&c.Op, "op", "+", "+ or - (STORE)")
	flag.DurationVar(&c.Timeout, "timeout", 10*time.Minute, "bound on the whole job")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the job to this file (Go contenders)")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			Fail(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			Fail(err)
		}
		stopProfile = func() { pprof.StopCPUProfile(); f.Close() }
	}
	if c.Addr == "" {
		Fail(errors.New("-addr is required"))
	}
	if c.Op != "+" && c.Op != "-" {
		Fail(fmt.Errorf("-op %q: want + or -", c.Op))
	}
	return c
}

// TLSConfig returns a client configuration that trusts only the CA of
// CAFile and verifies the name "localhost" (the test server's
// certificate), with TLS verification on.
func (c *Config) TLSConfig() (*tls.Config, error) {
	pem, err := os.ReadFile(c.CAFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no certificate", c.CAFile)
	}
	return &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}, nil
}

// Report is what a contender prints: one JSON line.
type Report struct {
	Messages int    `json:"messages,omitempty"` // FETCH responses (messages) seen
	UIDSum   uint64 `json:"uid_sum,omitempty"`  // the sum of their UIDs
	Bytes    int64  `json:"bytes,omitempty"`    // body bytes read (raw: all bytes)
	Commands int    `json:"commands,omitempty"` // commands completed (STORE)

	// JobIdle.
	Sessions             int     `json:"sessions,omitempty"`
	HeapPerSession       float64 `json:"heap_per_session,omitempty"`       // bytes of live heap
	StackPerSession      float64 `json:"stack_per_session,omitempty"`      // bytes of goroutine stacks
	GoroutinesPerSession float64 `json:"goroutines_per_session,omitempty"` // goroutines
	RSSKiB               int64   `json:"rss_kib,omitempty"`                // VmRSS with every session idle

	// PeakRSSKiB is VmHWM, the process's peak resident set, which Emit
	// fills in. (getrusage's ru_maxrss of a child is no good here: a Go
	// parent starts children with vfork, and Linux carries the parent's
	// peak over the exec.)
	PeakRSSKiB int64 `json:"peak_rss_kib,omitempty"`
}

// stopProfile ends the CPU profile that -cpuprofile started.
var stopProfile = func() {}

// Emit prints r, with PeakRSSKiB set, and exits 0.
func Emit(r Report) {
	stopProfile()
	r.PeakRSSKiB = procStatus("VmHWM:")
	b, err := json.Marshal(r)
	if err != nil {
		Fail(err)
	}
	os.Stdout.Write(append(b, '\n'))
	os.Exit(0)
}

// Fail prints err on stderr and exits 1.
func Fail(err error) {
	fmt.Fprintln(os.Stderr, "contender:", err)
	os.Exit(1)
}

// memory is a snapshot of the runtime's memory, taken after two
// collections.
type memory struct {
	heap, stack uint64
	goroutines  int
}

func snapshot() memory {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memory{heap: ms.HeapAlloc, stack: ms.StackInuse, goroutines: runtime.NumGoroutine()}
}

// MeasureIdle runs the IDLE job: open(i) connects session i and returns
// once the server has accepted its IDLE (its continuation request was
// read). MeasureIdle stops at the first error when at least one session is
// idle (the count is then what the process held), and reports the memory
// per idle session: live heap, goroutine stacks and goroutines, each the
// difference to before the first session, divided by the sessions. The
// sessions stay open until the process exits.
func MeasureIdle(n int, open func(i int) error) Report {
	before := snapshot()
	ok := 0
	for i := 0; i < n; i++ {
		if err := open(i); err != nil {
			if ok == 0 {
				Fail(err)
			}
			fmt.Fprintf(os.Stderr, "contender: session %d: %v (stopping at %d sessions)\n", i+1, err, ok)
			break
		}
		ok++
	}
	time.Sleep(200 * time.Millisecond) // let the sessions' goroutines settle
	after := snapshot()
	per := func(a, b uint64) float64 { return (float64(a) - float64(b)) / float64(ok) }
	return Report{
		Sessions:             ok,
		HeapPerSession:       per(after.heap, before.heap),
		StackPerSession:      per(after.stack, before.stack),
		GoroutinesPerSession: float64(after.goroutines-before.goroutines) / float64(ok),
		RSSKiB:               procStatus("VmRSS:"),
	}
}

// procStatus returns a value in kB from /proc/self/status ("VmRSS:",
// "VmHWM:"), or 0.
func procStatus(key string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}
