package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/plasticity-lab/plastic/run"
	"github.com/plasticity-lab/plastic/train"
)

// epochTask has 2 steps per epoch and reports its epoch as accuracy; it
// cancels its context or fails at a given global step.
type epochTask struct {
	epochs   int
	n        int
	cancelAt int
	cancel   context.CancelFunc
	failAt   int
}

func (t *epochTask) Epochs() int           { return t.epochs }
func (t *epochTask) StepsPerEpoch(int) int { return 2 }
func (t *epochTask) Step(ctx context.Context, s *train.State) (int, map[string]float64, error) {
	t.n++
	if t.n == t.cancelAt {
		t.cancel()
	}
	if t.n == t.failAt {
		return 0, nil, errors.New("loss is NaN")
	}
	return 1, nil, nil
}
func (t *epochTask) EndEpoch(ctx context.Context, s *train.State) (map[string]float64, error) {
	return map[string]float64{"accuracy": float64(s.Epoch)}, nil
}

// trainApp is an app whose `fit` command trains epochTask through startRun.
func trainApp(mode string) *cli.App {
	cmd := &cli.Command{
		Name:  "fit",
		Flags: append([]cli.Flag{&cli.IntFlag{Name: "epochs", Value: 4}}, runFlags()...),
		Action: func(c *cli.Context) error {
			r, ctx, stop, err := startRun(c, "fit")
			if err != nil {
				return err
			}
			defer stop()
			task := &epochTask{epochs: c.Int("epochs")}
			switch mode {
			case "cancel":
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				defer cancel()
				task.cancelAt, task.cancel = 5, cancel
			case "signal":
				// A real Ctrl-C: the run's context must end.
				syscall.Kill(os.Getpid(), syscall.SIGINT)
				select {
				case <-ctx.Done():
				case <-time.After(5 * time.Second):
					return errors.New("SIGINT did not cancel the run context")
				}
			case "fail":
				task.failAt = 3
			}
			err = train.Run(ctx, task, train.Options{Hooks: []any{r}})
			// Filled after train.Run: must still reach summary.json.
			r.Summary["final"] = "yes"
			return err
		},
	}
	return &cli.App{Name: "plastic", Flags: globalFlags(), Commands: []*cli.Command{cmd}, Before: applyConfigs, Writer: &strings.Builder{}}
}

func runRecord(t *testing.T, dir string) (run.Manifest, []map[string]float64, map[string]any) {
	t.Helper()
	r, err := run.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := r.Metrics()
	if err != nil {
		t.Fatal(err)
	}
	var sum map[string]any
	b, err := os.ReadFile(r.Path(run.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	return r.Manifest, ms, sum
}

func TestStartRunDone(t *testing.T) {
	out := t.TempDir()
	cfg := writeConfig(t, "fit.flags", "--epochs=3\n")
	err := trainApp("").Run([]string{"plastic", "--quiet", "--out", out, "--seed", "9", "--config", cfg, "fit", "--name", "first"})
	if err != nil {
		t.Fatal(err)
	}
	m, ms, sum := runRecord(t, filepath.Join(out, "first"))
	if m.Status != run.StatusDone || m.Command != "fit" || m.Seed != 9 || m.Device != "cpu" || m.End == nil {
		t.Fatalf("manifest %+v", m)
	}
	// Every flag with its final value: globals, the command's, from the file.
	if m.Flags["epochs"] != 3.0 || m.Flags["seed"] != 9.0 || m.Flags["out"] != out || m.Flags["quiet"] != true ||
		m.Flags["device"] != "auto" || m.Flags["data-dir"] != "datasets" || m.Flags["name"] != "first" {
		t.Fatalf("flags %v", m.Flags)
	}
	if len(ms) != 3 || ms[2]["accuracy"] != 3 {
		t.Fatalf("metrics %v", ms)
	}
	if sum["status"] != "done" || sum["final"] != "yes" {
		t.Fatalf("summary %v", sum)
	}
	// The same --name again is refused.
	err = trainApp("").Run([]string{"plastic", "--quiet", "--out", out, "fit", "--name", "first"})
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("reused name: %v", err)
	}
	// Without --name: COMMAND-TIME-sSEED-RANDOM.
	out2 := t.TempDir()
	if err := trainApp("").Run([]string{"plastic", "-q", "--out", out2, "--seed", "4", "fit", "--epochs", "1"}); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(out2)
	if len(ents) != 1 || !strings.HasPrefix(ents[0].Name(), "fit-") || !strings.Contains(ents[0].Name(), "-s4-") {
		t.Fatalf("run folders %v", ents)
	}
}

func TestStartRunInterrupted(t *testing.T) {
	for _, mode := range []string{"cancel", "signal"} {
		t.Run(mode, func(t *testing.T) {
			out := t.TempDir()
			err := trainApp(mode).Run([]string{"plastic", "-q", "--out", out, "fit", "--name", "x"})
			if !errors.Is(err, train.ErrInterrupted) {
				t.Fatalf("err %v", err)
			}
			m, ms, sum := runRecord(t, filepath.Join(out, "x"))
			if m.Status != run.StatusInterrupted || !strings.Contains(m.Error, "interrupted") {
				t.Fatalf("manifest %+v", m)
			}
			want := map[string]int{"cancel": 2, "signal": 0}[mode]
			if len(ms) != want {
				t.Fatalf("%d metrics lines kept, want %d", len(ms), want)
			}
			if sum["status"] != "interrupted" || sum["final"] != "yes" {
				t.Fatalf("summary %v", sum)
			}
		})
	}
}

func TestStartRunFailed(t *testing.T) {
	out := t.TempDir()
	err := trainApp("fail").Run([]string{"plastic", "-q", "--out", out, "fit", "--name", "x"})
	if err == nil || !strings.Contains(err.Error(), "loss is NaN") {
		t.Fatalf("err %v", err)
	}
	m, ms, sum := runRecord(t, filepath.Join(out, "x"))
	if m.Status != run.StatusFailed || !strings.Contains(m.Error, "loss is NaN") {
		t.Fatalf("manifest %+v", m)
	}
	if len(ms) != 1 || sum["status"] != "failed" {
		t.Fatalf("metrics %v summary %v", ms, sum)
	}
}
