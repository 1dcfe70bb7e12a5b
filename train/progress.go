package train

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"golang.org/x/term"
)

// Progress shows how a run goes: a redrawn bar on a terminal, and plain
// lines (at most one per Interval, plus one per epoch) otherwise.
type Progress struct {
	W        io.Writer
	Label    string
	Quiet    bool          // print nothing
	Interval time.Duration // between plain lines; 10s when zero
	tty      bool
	last     time.Time
}

// NewProgress writes to stderr, as a bar when stderr is a terminal.
func NewProgress(label string, quiet bool) *Progress {
	return &Progress{W: os.Stderr, Label: label, Quiet: quiet, tty: term.IsTerminal(int(os.Stderr.Fd()))}
}

func (p *Progress) OnStart(s *State) error {
	p.last = time.Now()
	return nil
}

func (p *Progress) OnStep(s *State) error {
	if p.Quiet {
		return nil
	}
	now := time.Now()
	iv := p.Interval
	if iv == 0 {
		iv = 10 * time.Second
	}
	if p.tty {
		if now.Sub(p.last) < 100*time.Millisecond && s.Step != s.StepsPerEpoch {
			return nil
		}
		p.last = now
		const width = 30
		frac := float64(s.Step) / float64(max(1, s.StepsPerEpoch))
		fill := int(frac * width)
		rate := float64(s.EpochSamples) / max(1e-9, now.Sub(s.EpochStart).Seconds())
		fmt.Fprintf(p.W, "\r%s epoch %d/%d [%s%s] %3.0f%% %.0f samples/s%s\x1b[K", p.Label, s.Epoch, s.Epochs,
			strings.Repeat("=", fill), strings.Repeat(" ", width-fill), 100*frac, rate, fmtMetrics(s.StepMetrics))
		return nil
	}
	if now.Sub(p.last) >= iv {
		p.last = now
		fmt.Fprintf(p.W, "%s epoch %d/%d step %d/%d%s\n", p.Label, s.Epoch, s.Epochs, s.Step, s.StepsPerEpoch, fmtMetrics(s.StepMetrics))
	}
	return nil
}

func (p *Progress) OnEpochEnd(s *State) error {
	if p.Quiet {
		return nil
	}
	if p.tty {
		fmt.Fprint(p.W, "\r\x1b[K")
	}
	fmt.Fprintf(p.W, "%s epoch %d/%d done%s\n", p.Label, s.Epoch, s.Epochs, fmtMetrics(s.EpochMetrics))
	return nil
}

func (p *Progress) OnFinish(s *State, err error) error {
	if !p.Quiet && p.tty && s.EpochMetrics == nil && s.GlobalStep > 0 {
		fmt.Fprintln(p.W)
	}
	return nil
}

func fmtMetrics(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		if k != "epoch" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%.4g", k, m[k])
	}
	return b.String()
}
