// Package train owns the one training loop of the toolkit. Every command that
// trains something (rule-based training, rule learning, optimizer training,
// sweeps) describes its work as a Task and hands it to Run; progress bars,
// metrics records, checkpoints, NaN checks and plots attach as hooks.
package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"
)

// ErrInterrupted is returned (wrapped) by Run when its context was cancelled,
// e.g. by Ctrl-C: the finish hooks have run and saved what the run has.
var ErrInterrupted = errors.New("interrupted")

// Task is one piece of training work split into epochs of steps.
type Task interface {
	// Epochs is the total number of epochs (1-based epochs 1..Epochs()).
	Epochs() int
	// StepsPerEpoch is the number of steps of the given epoch.
	StepsPerEpoch(epoch int) int
	// Step does one unit of work (a mini-batch, one example, one meta step)
	// and returns how many samples it consumed and optional metrics.
	Step(ctx context.Context, s *State) (samples int, metrics map[string]float64, err error)
	// EndEpoch evaluates at the end of an epoch and returns its metrics.
	EndEpoch(ctx context.Context, s *State) (map[string]float64, error)
}

// State is what the loop knows at any moment; hooks read it.
type State struct {
	Epoch         int // 1-based current epoch
	Epochs        int
	Step          int // 1-based step within the epoch
	StepsPerEpoch int
	GlobalStep    int   // steps done in this run, all epochs
	Samples       int64 // samples consumed in this run
	EpochSamples  int64 // samples consumed in the current epoch
	StepMetrics   map[string]float64
	// EpochMetrics holds the task's end-of-epoch metrics plus "epoch",
	// "epoch_seconds" and "samples_per_s"; set before OnEpochEnd hooks run.
	EpochMetrics map[string]float64
	Start        time.Time
	EpochStart   time.Time
}

// Hooks are values implementing any of the interfaces below.
type (
	StartHook  interface{ OnStart(*State) error }
	StepHook   interface{ OnStep(*State) error }
	EpochHook  interface{ OnEpochEnd(*State) error }
	FinishHook interface {
		// OnFinish runs once at the end, also after an error or an
		// interruption (err is then non-nil); it should save what it has.
		OnFinish(s *State, err error) error
	}
)

// Options of one Run.
type Options struct {
	// StartEpoch is the first epoch to run (1 unless resuming).
	StartEpoch int
	Hooks      []any
}

// Run drives task through its epochs, calling the hooks in order. It stops
// at the first error (of the task or a hook). A cancelled ctx makes Run stop
// between steps and return an error wrapping ErrInterrupted.
func Run(ctx context.Context, task Task, opt Options) (err error) {
	for i, h := range opt.Hooks {
		switch h.(type) {
		case StartHook, StepHook, EpochHook, FinishHook:
		default:
			return fmt.Errorf("train: hook %d (%T) implements no hook interface", i, h)
		}
	}
	s := &State{Epochs: task.Epochs(), Start: time.Now()}
	start := opt.StartEpoch
	if start < 1 {
		start = 1
	}
	defer func() {
		if ctx.Err() != nil && err != nil && !errors.Is(err, ErrInterrupted) {
			err = fmt.Errorf("%w: %v", ErrInterrupted, err)
		}
		for _, h := range opt.Hooks {
			if f, ok := h.(FinishHook); ok {
				if ferr := f.OnFinish(s, err); ferr != nil && err == nil {
					err = ferr
				}
			}
		}
	}()
	for _, h := range opt.Hooks {
		if f, ok := h.(StartHook); ok {
			if err := f.OnStart(s); err != nil {
				return err
			}
		}
	}
	for epoch := start; epoch <= s.Epochs; epoch++ {
		s.Epoch, s.StepsPerEpoch = epoch, task.StepsPerEpoch(epoch)
		s.EpochStart, s.EpochSamples, s.EpochMetrics = time.Now(), 0, nil
		for step := 1; step <= s.StepsPerEpoch; step++ {
			if ctx.Err() != nil {
				return fmt.Errorf("%w at epoch %d step %d", ErrInterrupted, epoch, step)
			}
			s.Step = step
			n, m, err := task.Step(ctx, s)
			if err != nil {
				return fmt.Errorf("epoch %d step %d: %w", epoch, step, err)
			}
			s.GlobalStep++
			s.Samples += int64(n)
			s.EpochSamples += int64(n)
			s.StepMetrics = m
			for _, h := range opt.Hooks {
				if f, ok := h.(StepHook); ok {
					if err := f.OnStep(s); err != nil {
						return err
					}
				}
			}
		}
		elapsed := time.Since(s.EpochStart).Seconds()
		m, err := task.EndEpoch(ctx, s)
		if err != nil {
			return fmt.Errorf("epoch %d evaluation: %w", epoch, err)
		}
		if m == nil {
			m = map[string]float64{}
		}
		m["epoch"] = float64(epoch)
		m["epoch_seconds"] = elapsed
		if elapsed > 0 {
			m["samples_per_s"] = float64(s.EpochSamples) / elapsed
		}
		s.EpochMetrics = m
		for _, h := range opt.Hooks {
			if f, ok := h.(EpochHook); ok {
				if err := f.OnEpochEnd(s); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// ErrDiverged is returned (wrapped) by the NaN check when a metric is not finite.
var ErrDiverged = errors.New("training diverged")

// NaNCheck stops the run with ErrDiverged as soon as a step or epoch metric
// is NaN or infinite (a diverging learning rate, say), before more updates
// are written into the weights.
type NaNCheck struct{}

func (NaNCheck) OnStep(s *State) error     { return checkFinite(s.StepMetrics, s, "step") }
func (NaNCheck) OnEpochEnd(s *State) error { return checkFinite(s.EpochMetrics, s, "epoch") }

func checkFinite(m map[string]float64, s *State, where string) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if v := m[k]; math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: %s metric %q is %v at epoch %d step %d (lower the learning rate?)",
				ErrDiverged, where, k, v, s.Epoch, s.Step)
		}
	}
	return nil
}

// Every calls f after every n-th step of the run (n >= 1), for example to
// report accuracy every N examples.
type Every struct {
	N int
	F func(*State) error
}

func (e Every) OnStep(s *State) error {
	if e.N > 0 && s.GlobalStep%e.N == 0 {
		return e.F(s)
	}
	return nil
}
