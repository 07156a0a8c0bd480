package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress is the progress display of export, import and copy: a bar on a
// terminal (messages, bytes, rate, ETA), drawn by
// github.com/schollz/progressbar, and otherwise a plain line at most once a
// second and at the end:
//
//	export INBOX: 120/4000 messages, 9120 KiB, 2301 KiB/s, ETA 1m48s
type progress struct {
	w       io.Writer
	quiet   bool
	label   string // "export INBOX"
	total   int    // messages expected
	n       int    // messages done
	bytes   int64
	start   time.Time
	last    time.Time // of the last plain line
	bar     *progressbar.ProgressBar
	lastBar time.Time // of the last description update
}

// isTerminal reports whether w is a terminal (a progress bar may be drawn
// on it); tests replace it.
var isTerminal = func(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// newProgress starts the display of a job of total messages on w (stderr);
// quiet shows nothing.
func newProgress(w io.Writer, quiet bool, label string, total int) *progress {
	now := time.Now()
	p := &progress{w: w, quiet: quiet, label: printable(label), total: total, start: now, last: now}
	if !quiet && total > 0 && isTerminal(w) {
		width := 30
		if f, ok := w.(*os.File); ok {
			if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols < 100 {
				width = max(10, cols-70)
			}
		}
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(p.label),
			progressbar.OptionSetWidth(width),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("msg"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionShowDescriptionAtLineEnd(),
			progressbar.OptionUseIECUnits(true),
			progressbar.OptionSetRenderBlankState(true),
		)
	}
	return p
}

// add counts one message of n bytes done.
func (p *progress) add(n int64) {
	p.n++
	p.bytes += n
	switch {
	case p.quiet:
	case p.bar != nil:
		if time.Since(p.lastBar) >= 250*time.Millisecond {
			p.lastBar = time.Now()
			p.bar.Describe(p.barText())
		}
		p.bar.Add(1)
	case time.Since(p.last) >= time.Second:
		p.last = time.Now()
		p.line()
	}
}

// skip takes n messages off the total: they need no work after all.
func (p *progress) skip(n int) {
	p.total -= n
	if p.bar != nil {
		p.bar.ChangeMax(max(p.total, 1))
	}
}

// rate is the bytes per second so far.
func (p *progress) rate() float64 {
	el := time.Since(p.start).Seconds()
	if el <= 0 {
		return 0
	}
	return float64(p.bytes) / el
}

// eta estimates the time left from the message rate so far.
func (p *progress) eta() time.Duration {
	el := time.Since(p.start)
	if p.n == 0 || p.n >= p.total {
		return 0
	}
	return (el / time.Duration(p.n) * time.Duration(p.total-p.n)).Round(time.Second)
}

// barText is the bar's description: what, and the bytes and their rate.
func (p *progress) barText() string {
	return fmt.Sprintf("%s %s %s/s", p.label, humanBytes(float64(p.bytes)), humanBytes(p.rate()))
}

func (p *progress) line() {
	s := fmt.Sprintf("%s: %d/%d messages, %d KiB, %.0f KiB/s", p.label, p.n, p.total, p.bytes/1024, p.rate()/1024)
	if eta := p.eta(); eta > 0 {
		s += ", ETA " + eta.String()
	}
	fmt.Fprintln(p.w, s)
}

// done shows the final state: the full bar, or the last plain line.
func (p *progress) done() {
	switch {
	case p.quiet:
	case p.bar != nil:
		p.bar.Describe(p.barText())
		p.bar.Finish()
		fmt.Fprintln(p.w)
	default:
		p.line()
	}
}

// humanBytes formats a byte count with a binary unit: 512 B, 1.5 KiB, 12.0 MiB.
func humanBytes(b float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for b >= 1024 && i < len(units)-1 {
		b /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f %s", b, units[i])
	}
	return fmt.Sprintf("%.1f %s", b, units[i])
}
