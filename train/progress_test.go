package train

import (
	"bytes"
	"context"
	"math"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// metricTask reports fixed step metrics (to check their formatting).
type metricTask struct {
	countTask
	step map[string]float64
}

func (t *metricTask) Step(ctx context.Context, s *State) (int, map[string]float64, error) {
	return 4, t.step, nil
}

func TestFmtMetrics(t *testing.T) {
	for _, c := range []struct {
		m    map[string]float64
		want string
	}{
		{nil, ""},
		{map[string]float64{"epoch": 3}, ""},
		{map[string]float64{"loss": 0.123456, "acc": 0.5, "epoch": 2}, " acc=0.5 loss=0.1235"},
		{map[string]float64{"b": 1e-7, "a": 123456789, "c": math.NaN(), "d": math.Inf(-1)}, " a=1.235e+08 b=1e-07 c=NaN d=-Inf"},
	} {
		if got := fmtMetrics(c.m); got != c.want {
			t.Errorf("fmtMetrics(%v) = %q, want %q", c.m, got, c.want)
		}
	}
}

// TestProgressPlainLines: off a terminal, a line per Interval (here every
// step) with the step's metrics, and one per epoch with the epoch's.
func TestProgressPlainLines(t *testing.T) {
	var buf bytes.Buffer
	p := &Progress{W: &buf, Label: "mlp", Interval: time.Nanosecond}
	task := &metricTask{countTask: countTask{epochs: 2, steps: 2}, step: map[string]float64{"loss": 0.25, "lr": 0.001}}
	if err := Run(context.Background(), task, Options{Hooks: []any{p}}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	want := []string{
		`^mlp epoch 1/2 step 1/2 loss=0\.25 lr=0\.001$`,
		`^mlp epoch 1/2 step 2/2 loss=0\.25 lr=0\.001$`,
		`^mlp epoch 1/2 done epoch_seconds=\S+ samples_per_s=\S+ test_accuracy=0\.5$`,
		`^mlp epoch 2/2 step 1/2 loss=0\.25 lr=0\.001$`,
		`^mlp epoch 2/2 step 2/2 loss=0\.25 lr=0\.001$`,
		`^mlp epoch 2/2 done epoch_seconds=\S+ samples_per_s=\S+ test_accuracy=0\.5$`,
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), buf.String())
	}
	for i, re := range want {
		if !regexp.MustCompile(re).MatchString(lines[i]) {
			t.Errorf("line %d %q does not match %s", i+1, lines[i], re)
		}
	}
	if strings.Contains(buf.String(), "\r") || strings.Contains(buf.String(), "\x1b") {
		t.Errorf("plain output has terminal controls: %q", buf.String())
	}
}

// TestProgressInterval: with a long interval only the epoch lines appear.
func TestProgressInterval(t *testing.T) {
	var buf bytes.Buffer
	p := &Progress{W: &buf, Label: "x", Interval: time.Hour}
	if err := Run(context.Background(), &countTask{epochs: 3, steps: 50}, Options{Hooks: []any{p}}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\n"); n != 3 || strings.Count(buf.String(), " done") != 3 || strings.Contains(buf.String(), " step ") {
		t.Fatalf("want the 3 epoch lines only, got:\n%s", buf.String())
	}
}

func TestProgressQuiet(t *testing.T) {
	var buf bytes.Buffer
	for _, tty := range []bool{false, true} {
		p := &Progress{W: &buf, Label: "x", Quiet: true, Interval: time.Nanosecond, tty: tty}
		ctx, cancel := context.WithCancel(context.Background())
		task := &countTask{epochs: 2, steps: 3, cancelAt: 5, cancel: cancel}
		Run(ctx, task, Options{Hooks: []any{p}})
		cancel()
	}
	if buf.Len() != 0 {
		t.Fatalf("quiet progress wrote %q", buf.String())
	}
}

// TestProgressTerminalBar: on a terminal a bar redrawn in place (carriage
// return, erase to end of line), full at the epoch's last step, then the
// epoch line on a cleared line; an interrupted first epoch ends the bar's
// line.
func TestProgressTerminalBar(t *testing.T) {
	var buf bytes.Buffer
	p := &Progress{W: &buf, Label: "rn", tty: true}
	task := &metricTask{countTask: countTask{epochs: 1, steps: 4}, step: map[string]float64{"loss": 2}}
	if err := Run(context.Background(), task, Options{Hooks: []any{p}}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	bar := regexp.MustCompile(`\rrn epoch 1/1 \[={30}\] 100% \d+ samples/s loss=2\x1b\[K`)
	if !bar.MatchString(out) {
		t.Errorf("no full bar in %q", out)
	}
	if !regexp.MustCompile(`\r\x1b\[Krn epoch 1/1 done epoch_seconds=\S+ samples_per_s=\S+ test_accuracy=0\.5\n$`).MatchString(out) {
		t.Errorf("epoch line not on a cleared line: %q", out)
	}

	// Interrupted before the first epoch ends: the bar's line is closed.
	buf.Reset()
	p = &Progress{W: &buf, Label: "rn", tty: true}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p.OnStart(&State{})
	p.last = time.Time{} // as if the last redraw was long ago
	s := &State{Epoch: 1, Epochs: 2, Step: 2, StepsPerEpoch: 4, GlobalStep: 2, EpochSamples: 8, EpochStart: time.Now().Add(-time.Second)}
	p.OnStep(s)
	if !regexp.MustCompile(`^\rrn epoch 1/2 \[={15} {15}\]  50% \d+ samples/s\x1b\[K$`).MatchString(buf.String()) {
		t.Errorf("half bar: %q", buf.String())
	}
	p.OnFinish(s, ctx.Err())
	if !strings.HasSuffix(buf.String(), "\n") {
		t.Errorf("interrupted bar not ended by a newline: %q", buf.String())
	}
}

// TestNewProgress writes to stderr, which is not a terminal under go test.
func TestNewProgress(t *testing.T) {
	p := NewProgress("lbl", true)
	if p.W != os.Stderr || p.Label != "lbl" || !p.Quiet {
		t.Fatalf("NewProgress = %+v", p)
	}
}

// TestEveryHook calls its function after every N-th step of the run,
// counting across epochs.
func TestEveryHook(t *testing.T) {
	var at []int
	e := Every{N: 3, F: func(s *State) error { at = append(at, s.GlobalStep); return nil }}
	if err := Run(context.Background(), &countTask{epochs: 2, steps: 5}, Options{Hooks: []any{e, Every{N: 0}}}); err != nil {
		t.Fatal(err)
	}
	if len(at) != 3 || at[0] != 3 || at[1] != 6 || at[2] != 9 {
		t.Fatalf("Every{3} ran at steps %v, want [3 6 9]", at)
	}
}

// TestNaNCheckEpochMetric stops on a non-finite end-of-epoch metric.
func TestNaNCheckEpochMetric(t *testing.T) {
	err := NaNCheck{}.OnEpochEnd(&State{Epoch: 2, EpochMetrics: map[string]float64{"test_loss": math.Inf(1), "acc": 0.5}})
	if err == nil || !strings.Contains(err.Error(), `epoch metric "test_loss" is +Inf at epoch 2`) {
		t.Fatalf("err = %v", err)
	}
}
