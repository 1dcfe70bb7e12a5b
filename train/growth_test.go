package train

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// lossTask reports the losses of its steps in order.
type lossTask struct {
	epochs, steps int
	losses        []float64
	i             int
}

func (t *lossTask) Epochs() int           { return t.epochs }
func (t *lossTask) StepsPerEpoch(int) int { return t.steps }
func (t *lossTask) Step(ctx context.Context, s *State) (int, map[string]float64, error) {
	l := t.losses[t.i%len(t.losses)]
	t.i++
	return 1, map[string]float64{"loss": l}, nil
}
func (t *lossTask) EndEpoch(ctx context.Context, s *State) (map[string]float64, error) {
	return nil, nil
}

func TestLossGrowth(t *testing.T) {
	// Mean of epoch 1: (2 + 300 + 400) / 3 = 234 > 100 * 2.
	grow := []float64{2, 300, 400}
	err := Run(context.Background(), &lossTask{epochs: 2, steps: 3, losses: grow}, Options{Hooks: []any{&LossGrowth{}}})
	if !errors.Is(err, ErrDiverged) || !strings.Contains(err.Error(), "grew from 2 (first step) to 234") {
		t.Fatalf("growing loss: %v", err)
	}
	var warned []string
	g := &LossGrowth{Warn: func(m string) { warned = append(warned, m) }}
	if err := Run(context.Background(), &lossTask{epochs: 2, steps: 3, losses: grow}, Options{Hooks: []any{g}}); err != nil || len(warned) != 1 {
		t.Fatalf("warn only: %v, %v", err, warned)
	}
	// Below the factor, a falling loss, or a run resumed after epoch 1: no
	// divergence.
	for _, c := range []struct {
		losses []float64
		start  int
	}{{[]float64{2, 100, 150}, 1}, {[]float64{2, 1, 0.5}, 1}, {grow, 2}} {
		if err := Run(context.Background(), &lossTask{epochs: 2, steps: 3, losses: c.losses}, Options{StartEpoch: c.start, Hooks: []any{&LossGrowth{}}}); err != nil {
			t.Errorf("%v from epoch %d: %v", c.losses, c.start, err)
		}
	}
}
