// Command compare runs the comparison suite of issue 13 and prints its
// tables in Markdown: `make bench-compare` in the repository root runs it
// from the bench directory as
//
//	go run ./cmd/compare
//
// Parts (-parts, comma-separated; all by default):
//
//   - micro: the in-process benchmarks of ./micro (go test -bench), one
//     table of MB/s, allocations and bytes per item.
//   - e2e: a private Dovecot (internal/testserver) seeded with 20,000
//     messages of 20 KB and 2,000 of 200 KB; metadata and body FETCH of a
//     whole mailbox, plain and TLS, by a raw drain client, imapkit,
//     go-imap v2 and Python's imaplib, each a child process. After a
//     warm-up round the contenders run in a different order each round;
//     the table gives medians (min-max) of the wall-time ratio to the raw
//     client of the same round, the child's CPU time (getrusage) and its
//     peak RSS.
//   - pipeline: 1,000 UID STORE commands through a relay that delays each
//     direction by half of -rtt (20 ms round trip), one at a time and
//     pipelined.
//   - idle: -idle-sessions sessions in IDLE in one process against a
//     scripted loopback server: live heap, stacks and goroutines per
//     session, and RSS.
//
// It must run in the bench module's directory: it builds the contender
// binaries there.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/imapkit/imapkit/bench/internal/mailgen"
	"github.com/imapkit/imapkit/bench/internal/relay"
	"github.com/imapkit/imapkit/bench/internal/scripted"
	"github.com/imapkit/imapkit/internal/testserver"
)

var (
	partsFlag    = flag.String("parts", "micro,e2e,pipeline,idle", "parts to run: micro, e2e, pipeline, idle")
	rounds       = flag.Int("rounds", 9, "measured rounds of the end-to-end part (after one warm-up round)")
	scale        = flag.Int("scale", 1, "divide the seeded message counts by this (a quick check)")
	storeN       = flag.Int("store", 1000, "UID STORE commands of the pipelining part")
	storeRounds  = flag.Int("store-rounds", 3, "pipelined runs per contender (one sequential run each)")
	rtt          = flag.Duration("rtt", 20*time.Millisecond, "round trip time of the relay")
	idleSessions = flag.Int("idle-sessions", 10000, "sessions of the IDLE part")
	python       = flag.String("python", "python3", "Python interpreter for the imaplib contender")
	benchtime    = flag.String("benchtime", "1s", "-benchtime of the micro part")
	hold         = flag.Bool("hold", false, "start and seed the server, print the contenders' command lines for the metadata job, and wait until standard input closes (to profile one contender by hand)")
)

func main() {
	flag.Parse()
	if err := compare(); err != nil {
		fail(err)
	}
}

// compare runs the parts asked for; its deferred clean-ups run on errors
// too.
func compare() error {
	log := func(format string, args ...any) { fmt.Fprintf(os.Stderr, "== "+format+"\n", args...) }
	if err := checkDir(); err != nil {
		return err
	}
	parts := map[string]bool{}
	for _, p := range strings.Split(*partsFlag, ",") {
		parts[strings.TrimSpace(p)] = true
	}
	fmt.Printf("# imapkit comparison suite\n\n%s\n", machine())
	if parts["micro"] {
		log("micro: go test -bench ./micro/")
		if err := micro(); err != nil {
			return err
		}
	}
	if !parts["e2e"] && !parts["pipeline"] && !parts["idle"] {
		return nil
	}
	tmp, err := os.MkdirTemp("", "imapkit-compare-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	log("building the contenders")
	bins, err := build(tmp)
	if err != nil {
		return err
	}
	if parts["e2e"] || parts["pipeline"] {
		srv, err := startServer(tmp, parts, log)
		if err != nil {
			return err
		}
		if *hold {
			j := fetchJob{job: "meta", box: mailboxes()[0]}
			fmt.Printf("%s %s\n%s %s\n", bins.imapkit, strings.Join(srv.common(j), " "), bins.goimap, strings.Join(srv.common(j), " "))
			fmt.Println("(the server runs until standard input closes)")
			io.Copy(io.Discard, os.Stdin)
			srv.stop()
			return nil
		}
		if parts["e2e"] {
			err = endToEnd(srv, bins, log)
		}
		if err == nil && parts["pipeline"] {
			err = pipeline(srv, bins, log)
		}
		srv.stop()
		if err != nil {
			return err
		}
	}
	if parts["idle"] {
		log("idle: %d sessions per contender", *idleSessions)
		if err := idle(bins); err != nil {
			return err
		}
	}
	return nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "compare:", err)
	os.Exit(1)
}

// checkDir makes sure the working directory is the bench module.
func checkDir() error {
	b, err := os.ReadFile("go.mod")
	if err != nil || !bytes.Contains(b, []byte("module github.com/imapkit/imapkit/bench\n")) {
		return fmt.Errorf("run me in the bench module's directory (cd bench && go run ./cmd/compare)")
	}
	return nil
}

// machine describes the machine and the versions, for the record.
func machine() string {
	var b strings.Builder
	cpu := "?"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	mem := "?"
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		line, _, _ := strings.Cut(string(data), "\n")
		mem = strings.Join(strings.Fields(strings.TrimPrefix(line, "MemTotal:")), " ")
	}
	out := func(name string, args ...string) string {
		o, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			return "?"
		}
		s, _, _ := strings.Cut(strings.TrimSpace(string(o)), "\n")
		return s
	}
	load := "?"
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(data))[:3], " ")
	}
	fmt.Fprintf(&b, "- date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "- machine: %d CPUs (%s), %s RAM, %s\n", runtime.NumCPU(), cpu, mem, out("uname", "-sr"))
	fmt.Fprintf(&b, "- load average at start: %s\n", load)
	fmt.Fprintf(&b, "- %s; Dovecot %s; %s\n", runtime.Version(), out("dovecot", "--version"), out(*python, "--version"))
	return b.String()
}

// contenders names the binaries built (and the Python script).
type contenders struct {
	imapkit, goimap, raw string
	script               string
}

func build(dir string) (*contenders, error) {
	c := &contenders{
		imapkit: filepath.Join(dir, "contender-imapkit"),
		goimap:  filepath.Join(dir, "contender-goimap"),
		raw:     filepath.Join(dir, "contender-raw"),
	}
	for _, b := range []string{c.imapkit, c.goimap, c.raw} {
		cmd := exec.Command("go", "build", "-o", b, "./cmd/"+filepath.Base(b))
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build %s: %v\n%s", filepath.Base(b), err, out)
		}
	}
	abs, err := filepath.Abs("python/imaplib_client.py")
	if err != nil {
		return nil, err
	}
	c.script = abs
	return c, nil
}

// run is one child process's measurement.
type run struct {
	wall, cpu time.Duration
	report    report
}

// report is what the contenders print (see bench/internal/contender).
type report struct {
	Messages             int     `json:"messages"`
	UIDSum               uint64  `json:"uid_sum"`
	Bytes                int64   `json:"bytes"`
	Commands             int     `json:"commands"`
	Sessions             int     `json:"sessions"`
	HeapPerSession       float64 `json:"heap_per_session"`
	StackPerSession      float64 `json:"stack_per_session"`
	GoroutinesPerSession float64 `json:"goroutines_per_session"`
	RSSKiB               int64   `json:"rss_kib"`
	PeakRSSKiB           int64   `json:"peak_rss_kib"`
}

// runChild runs argv with the password in its environment and measures
// its wall time and CPU time (user + system); its peak RSS is in its
// report (VmHWM).
func runChild(ctx context.Context, argv []string) (run, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "BENCH_PASS="+testserver.Password)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return run{}, err
	}
	err := cmd.Wait()
	wall := time.Since(start)
	if err != nil {
		return run{}, fmt.Errorf("%s: %v\n%s", filepath.Base(argv[0]), err, stderr.Bytes())
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return run{}, fmt.Errorf("no rusage")
	}
	r := run{
		wall: wall,
		cpu:  time.Duration(ru.Utime.Nano() + ru.Stime.Nano()),
	}
	line := bytes.TrimSpace(stdout.Bytes())
	if i := bytes.LastIndexByte(line, '\n'); i >= 0 {
		line = line[i+1:]
	}
	if err := json.Unmarshal(line, &r.report); err != nil {
		return run{}, fmt.Errorf("%s: report %q: %v", filepath.Base(argv[0]), line, err)
	}
	return r, nil
}

// server is the seeded Dovecot.
type server struct {
	srv    *testserver.Server
	dir    string
	caFile string
}

func (s *server) stop() {
	if err := s.srv.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "compare: stopping dovecot:", err)
	}
	os.RemoveAll(s.dir)
}

// The seeded mailboxes.
type mailbox struct {
	name       string
	n, size    int
	label      string
	forStoring bool
}

func mailboxes() []mailbox {
	return []mailbox{
		{name: "bench-20k", n: 20000 / *scale, size: 20000, label: fmt.Sprintf("%d × 20 KB", 20000 / *scale)},
		{name: "bench-2k", n: 2000 / *scale, size: 200000, label: fmt.Sprintf("%d × 200 KB", 2000 / *scale)},
		{name: "bench-store", n: *storeN, size: 2000, forStoring: true},
	}
}

func startServer(tmp string, parts map[string]bool, log func(string, ...any)) (*server, error) {
	dir, err := os.MkdirTemp("", "imapkit-compare-dovecot-")
	if err != nil {
		return nil, err
	}
	srv, err := testserver.Start(dir, nil)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s := &server{srv: srv, dir: dir, caFile: filepath.Join(tmp, "ca.pem")}
	if err := os.WriteFile(s.caFile, srv.CAPEM, 0o600); err != nil {
		s.stop()
		return nil, err
	}
	for _, m := range mailboxes() {
		if m.forStoring && !parts["pipeline"] || !m.forStoring && !parts["e2e"] {
			continue
		}
		start := time.Now()
		if err := srv.SeedMailbox(testserver.Alice, m.name, mailgen.Messages(m.n, m.size)); err != nil {
			s.stop()
			return nil, err
		}
		log("seeded %s: %d messages of %d bytes in %.1f s", m.name, m.n, m.size, time.Since(start).Seconds())
	}
	return s, nil
}

// A fetch job of the end-to-end part.
type fetchJob struct {
	label string
	job   string // meta or body
	box   mailbox
	tls   bool
}

// A contender of the end-to-end part.
type e2eContender struct {
	name string
	argv func(j fetchJob) []string // nil when it does not run j
}

func (s *server) common(j fetchJob) []string {
	addr := s.srv.PlainAddr
	args := []string{"-user", testserver.Alice, "-mailbox", j.box.name, "-job", j.job}
	if j.tls {
		addr = s.srv.TLSAddr
		args = append(args, "-tls", "-ca", s.caFile)
	}
	return append([]string{"-addr", addr}, args...)
}

func endToEnd(s *server, bins *contenders, log func(string, ...any)) error {
	var jobs []fetchJob
	boxes := mailboxes()
	for _, tls := range []bool{false, true} {
		conn := "plain"
		if tls {
			conn = "TLS"
		}
		jobs = append(jobs,
			fetchJob{label: fmt.Sprintf("metadata FETCH, %d messages, %s", boxes[0].n, conn), job: "meta", box: boxes[0], tls: tls},
			fetchJob{label: fmt.Sprintf("bodies, %s, %s", boxes[0].label, conn), job: "body", box: boxes[0], tls: tls},
			fetchJob{label: fmt.Sprintf("bodies, %s, %s", boxes[1].label, conn), job: "body", box: boxes[1], tls: tls},
		)
	}
	cs := []e2eContender{
		{"raw", func(j fetchJob) []string { return append([]string{bins.raw}, s.common(j)...) }},
		{"imapkit", func(j fetchJob) []string { return append([]string{bins.imapkit}, s.common(j)...) }},
		{"imapkit Run", func(j fetchJob) []string {
			if j.job != "meta" {
				return nil // 400 MB of bodies exceed MaxResultBytes: Run is for collecting metadata
			}
			return append([]string{bins.imapkit, "-mode", "run"}, s.common(j)...)
		}},
		{"imapkit Borrow", func(j fetchJob) []string {
			if j.job != "meta" {
				return nil // bodies are streamed alike in both modes
			}
			return append([]string{bins.imapkit, "-mode", "borrow"}, s.common(j)...)
		}},
		{"go-imap v2", func(j fetchJob) []string { return append([]string{bins.goimap}, s.common(j)...) }},
		{"imaplib", func(j fetchJob) []string {
			return append([]string{*python, bins.script}, s.common(j)...)
		}},
	}
	// results[job][contender] holds one run per measured round.
	results := make([][][]run, len(jobs))
	for i := range results {
		results[i] = make([][]run, len(cs))
	}
	ctx := context.Background()
	for round := 0; round <= *rounds; round++ {
		if round == 0 {
			log("e2e: warm-up round")
		} else {
			log("e2e: round %d of %d", round, *rounds)
		}
		for ji, j := range jobs {
			// A different order each round: rotate the contenders.
			for k := range cs {
				ci := (k + round) % len(cs)
				argv := cs[ci].argv(j)
				if argv == nil {
					continue
				}
				r, err := runChild(ctx, argv)
				if err != nil {
					return fmt.Errorf("%s, %s: %w", j.label, cs[ci].name, err)
				}
				if err := checkFetch(j, cs[ci].name, r.report); err != nil {
					return err
				}
				if round > 0 {
					results[ji][ci] = append(results[ji][ci], r)
				}
			}
		}
	}
	fmt.Printf("\n## End to end against Dovecot on loopback\n\n")
	fmt.Printf("%d measured rounds after a warm-up round, contenders in a rotating order; each a child process. "+
		"ratio = wall time ÷ the raw client's in the same round: median (min–max). CPU = user + system time of the child (median). "+
		"CPU ÷ go-imap = the same ratio to go-imap v2's CPU in the same round (median). RSS = peak resident set of the child (its VmHWM; the largest of the rounds).\n\n", *rounds)
	fmt.Println("| job | client | wall s | ratio to raw | CPU s | CPU ÷ go-imap | peak RSS MiB |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for ji, j := range jobs {
		raw, gi := results[ji][0], results[ji][slices.IndexFunc(cs, func(c e2eContender) bool { return c.name == "go-imap v2" })]
		for ci, c := range cs {
			rs := results[ji][ci]
			if len(rs) == 0 {
				continue
			}
			var walls, cpus, ratios, cpuRatios []float64
			var rss int64
			for k, r := range rs {
				walls = append(walls, r.wall.Seconds())
				cpus = append(cpus, r.cpu.Seconds())
				ratios = append(ratios, r.wall.Seconds()/raw[k].wall.Seconds())
				cpuRatios = append(cpuRatios, r.cpu.Seconds()/gi[k].cpu.Seconds())
				rss = max(rss, r.report.PeakRSSKiB)
			}
			fmt.Printf("| %s | %s | %.2f | %s | %.2f | %.2f | %.1f |\n", j.label, c.name, median(walls), spread(ratios), median(cpus), median(cpuRatios), float64(rss)/1024)
		}
	}
	return nil
}

// checkFetch makes sure a contender got every message: a contender that
// drops data is not measured.
func checkFetch(j fetchJob, who string, r report) error {
	n := j.box.n
	if r.PeakRSSKiB <= 0 {
		return fmt.Errorf("%s, %s: no peak RSS in the report", j.label, who)
	}
	if who == "raw" {
		min := int64(n) * 100
		if j.job == "body" {
			min = int64(n) * int64(j.box.size)
		}
		if r.Bytes < min {
			return fmt.Errorf("%s, %s: read %d bytes; want at least %d", j.label, who, r.Bytes, min)
		}
		return nil
	}
	want := report{Messages: n, UIDSum: uint64(n) * uint64(n+1) / 2}
	if j.job == "body" {
		want.Bytes = int64(n) * int64(j.box.size)
	}
	if r.Messages != want.Messages || r.UIDSum != want.UIDSum || r.Bytes != want.Bytes {
		return fmt.Errorf("%s, %s: got %d messages, UID sum %d, %d body bytes; want %d, %d, %d",
			j.label, who, r.Messages, r.UIDSum, r.Bytes, want.Messages, want.UIDSum, want.Bytes)
	}
	return nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func spread(xs []float64) string {
	return fmt.Sprintf("%.2f (%.2f–%.2f)", median(xs), slices.Min(xs), slices.Max(xs))
}

func pipeline(s *server, bins *contenders, log func(string, ...any)) error {
	r, err := relay.Listen(s.srv.PlainAddr, *rtt/2)
	if err != nil {
		return err
	}
	defer r.Close()
	box := mailboxes()[2]
	type contender struct{ name, bin string }
	cs := []contender{{"imapkit", bins.imapkit}, {"go-imap v2", bins.goimap}}
	ctx := context.Background()
	op := "+"
	do := func(c contender, job string) (run, error) {
		argv := []string{c.bin, "-addr", r.Addr(), "-user", testserver.Alice, "-mailbox", box.name, "-job", job, "-n", fmt.Sprint(*storeN), "-op", op}
		if op == "+" {
			op = "-"
		} else {
			op = "+"
		}
		res, err := runChild(ctx, argv)
		if err == nil && res.report.Commands != *storeN {
			err = fmt.Errorf("%s %s: %d commands completed; want %d", c.name, job, res.report.Commands, *storeN)
		}
		return res, err
	}
	fmt.Printf("\n## Pipelining: %d UID STORE through a relay with %v round trip\n\n", *storeN, *rtt)
	fmt.Printf("Dovecot on loopback behind a relay that delays each direction by %v. One sequential run and %d pipelined runs per client (pipelined: median, min–max); each run includes connecting, LOGIN and SELECT (%d round trips).\n\n", *rtt/2, *storeRounds, 4)
	fmt.Println("| client | sequential s | pipelined s | pipelined ÷ sequential | CPU s (pipelined) |")
	fmt.Println("|---|---|---|---|---|")
	for _, c := range cs {
		log("pipeline: %s, %d pipelined runs and one sequential", c.name, *storeRounds)
		var pipes, cpus []float64
		for i := 0; i < *storeRounds; i++ {
			res, err := do(c, "store-pipe")
			if err != nil {
				return err
			}
			pipes = append(pipes, res.wall.Seconds())
			cpus = append(cpus, res.cpu.Seconds())
		}
		seq, err := do(c, "store-seq")
		if err != nil {
			return err
		}
		ratios := make([]float64, len(pipes))
		for i, p := range pipes {
			ratios[i] = p / seq.wall.Seconds()
		}
		fmt.Printf("| %s | %.2f | %s | %s | %.3f |\n", c.name, seq.wall.Seconds(), spreadSec(pipes), spreadRatio(ratios), median(cpus))
	}
	return nil
}

func spreadSec(xs []float64) string {
	return fmt.Sprintf("%.3f (%.3f–%.3f)", median(xs), slices.Min(xs), slices.Max(xs))
}

func spreadRatio(xs []float64) string {
	return fmt.Sprintf("%.4f (%.4f–%.4f)", median(xs), slices.Min(xs), slices.Max(xs))
}

func idle(bins *contenders) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	go scripted.ServeListener(ln)
	type contender struct {
		name string
		argv []string
	}
	cs := []contender{
		{"imapkit (session.Start IDLE)", []string{bins.imapkit}},
		{"imapkit (commands.Client.Idle, a goroutine each)", []string{bins.imapkit, "-mode", "commands"}},
		{"go-imap v2 (Client.Idle)", []string{bins.goimap}},
	}
	fmt.Printf("\n## IDLE: %d sessions in one process\n\n", *idleSessions)
	fmt.Println("Against a scripted server on loopback (bench/internal/scripted: PREAUTH, then \"+ idling\"). Per session: the growth of the live heap (runtime.MemStats.HeapAlloc after GC), of goroutine stacks (StackInuse) and of goroutines, divided by the sessions; RSS is the process's with every session idle.")
	fmt.Println()
	fmt.Println("| client | sessions | heap KiB/session | stack KiB/session | heap+stack KiB/session | goroutines/session | RSS MiB |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for _, c := range cs {
		argv := append(slices.Clone(c.argv), "-addr", ln.Addr().String(), "-job", "idle", "-n", fmt.Sprint(*idleSessions), "-timeout", "5m")
		res, err := runChild(context.Background(), argv)
		if err != nil {
			return err
		}
		r := res.report
		fmt.Printf("| %s | %d | %.1f | %.1f | %.1f | %.2f | %.0f |\n", c.name, r.Sessions, r.HeapPerSession/1024, r.StackPerSession/1024,
			(r.HeapPerSession+r.StackPerSession)/1024, r.GoroutinesPerSession, float64(r.RSSKiB)/1024)
	}
	return nil
}

// micro runs the in-process benchmarks and prints them as a table.
func micro() error {
	cmd := exec.Command("go", "test", "-run", "^$", "-bench", ".", "-benchmem", "-count", "1", "-benchtime", *benchtime, "./micro/")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("go test -bench ./micro/: %v\n%s%s", err, out, stderr.Bytes())
	}
	fmt.Printf("\n## In process: the same recorded bytes for every client\n\n")
	fmt.Println("`go test -run '^$' -bench . -benchmem ./micro/` in bench/ (see bench/micro/doc.go). MB/s counts the recorded stream; per item = per message (SEARCH: per number). ÷ codec = the codec's time ÷ this one's (1.00 = as fast as the codec alone).")
	fmt.Println()
	fmt.Println("| stream | client | MB/s | ÷ codec | allocs/item | B/item | allocs/op | B/op |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	type row struct {
		stream, client string
		nsop, mbs      float64
		m              map[string]string
	}
	var rows []row
	codecNs := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "BenchmarkCompare/") {
			continue
		}
		name := strings.TrimPrefix(f[0], "BenchmarkCompare/")
		if i := strings.LastIndexByte(name, '-'); i >= 0 {
			name = name[:i] // the GOMAXPROCS suffix
		}
		stream, client, _ := strings.Cut(name, "/")
		r := row{stream: stream, client: client, m: map[string]string{}}
		for k := 2; k+1 < len(f); k += 2 {
			r.m[f[k+1]] = f[k]
		}
		fmt.Sscan(r.m["ns/op"], &r.nsop)
		fmt.Sscan(r.m["MB/s"], &r.mbs)
		if client == "codec" {
			codecNs[stream] = r.nsop
		}
		rows = append(rows, r)
	}
	if len(rows) == 0 {
		return fmt.Errorf("no benchmark results in:\n%s", out)
	}
	for _, r := range rows {
		rel := "—"
		if c := codecNs[r.stream]; c > 0 && r.client != "plain" {
			rel = fmt.Sprintf("%.2f", c/r.nsop)
		}
		fmt.Printf("| %s | %s | %.0f | %s | %s | %s | %s | %s |\n", r.stream, r.client, r.mbs, rel, r.m["allocs/item"], r.m["B/item"], r.m["allocs/op"], r.m["B/op"])
	}
	return nil
}
