package train

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
)

type countTask struct {
	epochs, steps int
	cancelAt      int
	cancel        context.CancelFunc
	loss          float64
	evals         int
}

func (t *countTask) Epochs() int           { return t.epochs }
func (t *countTask) StepsPerEpoch(int) int { return t.steps }
func (t *countTask) Step(ctx context.Context, s *State) (int, map[string]float64, error) {
	if s.GlobalStep+1 == t.cancelAt {
		t.cancel()
	}
	return 10, map[string]float64{"loss": t.loss}, nil
}
func (t *countTask) EndEpoch(ctx context.Context, s *State) (map[string]float64, error) {
	t.evals++
	return map[string]float64{"test_accuracy": 0.5}, nil
}

type recorder struct {
	events   []string
	finalErr error
}

func (r *recorder) OnStart(*State) error { r.events = append(r.events, "start"); return nil }
func (r *recorder) OnStep(*State) error  { r.events = append(r.events, "step"); return nil }
func (r *recorder) OnEpochEnd(s *State) error {
	r.events = append(r.events, "epoch")
	return nil
}
func (r *recorder) OnFinish(s *State, err error) error {
	r.events = append(r.events, "finish")
	r.finalErr = err
	return nil
}

func TestRunOrderAndCounts(t *testing.T) {
	task := &countTask{epochs: 2, steps: 3}
	r := &recorder{}
	if err := Run(context.Background(), task, Options{Hooks: []any{r}}); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(r.events, ",")
	want := "start,step,step,step,epoch,step,step,step,epoch,finish"
	if got != want {
		t.Fatalf("events %s, want %s", got, want)
	}
	if task.evals != 2 {
		t.Fatalf("evals %d", task.evals)
	}
}

func TestResumeStartsAtEpoch(t *testing.T) {
	task := &countTask{epochs: 3, steps: 2}
	r := &recorder{}
	if err := Run(context.Background(), task, Options{StartEpoch: 3, Hooks: []any{r}}); err != nil {
		t.Fatal(err)
	}
	if task.evals != 1 {
		t.Fatalf("resumed at epoch 3 of 3 should evaluate once, got %d", task.evals)
	}
}

func TestInterruptRunsFinishHooks(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	task := &countTask{epochs: 5, steps: 4, cancelAt: 6, cancel: cancel}
	r := &recorder{}
	err := Run(ctx, task, Options{Hooks: []any{r}})
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("err = %v, want ErrInterrupted", err)
	}
	if !errors.Is(r.finalErr, ErrInterrupted) {
		t.Fatalf("finish hook saw %v", r.finalErr)
	}
	steps := strings.Count(strings.Join(r.events, ","), "step")
	if steps != 6 {
		t.Fatalf("ran %d steps, want 6 (stop right after the cancelling step)", steps)
	}
}

func TestNaNCheckStopsRun(t *testing.T) {
	task := &countTask{epochs: 2, steps: 3, loss: math.NaN()}
	r := &recorder{}
	err := Run(context.Background(), task, Options{Hooks: []any{NaNCheck{}, r}})
	if !errors.Is(err, ErrDiverged) || !strings.Contains(err.Error(), `"loss"`) {
		t.Fatalf("err = %v", err)
	}
	if r.finalErr == nil {
		t.Fatal("finish hook did not see the error")
	}
}

func TestRejectsNonHook(t *testing.T) {
	if err := Run(context.Background(), &countTask{epochs: 1, steps: 1}, Options{Hooks: []any{42}}); err == nil {
		t.Fatal("want error for a value that is no hook")
	}
}
