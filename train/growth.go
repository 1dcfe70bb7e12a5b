package train

import (
	"fmt"
	"math"
)

// DefaultGrowthFactor is how many times its first step's loss the mean
// training loss of the first epoch may reach before LossGrowth calls the
// run diverged: two orders of magnitude. A training run that learns
// anything lowers its loss over the first epoch; one whose loss grows a
// hundredfold is running away (a learning rate of 1e6 takes an MLP's
// cross-entropy from 2.3 to ~1e21 while staying finite).
const DefaultGrowthFactor = 100

// LossGrowth finds divergence that stays finite: the mean of the "loss"
// step metric over the first epoch above Factor times the loss of the
// run's first step. With Warn nil it stops the run with an error wrapping
// ErrDiverged; otherwise it hands Warn the message and lets the run go on.
// It looks at epoch 1 only, which a resumed run either has finished (the
// first checkpoint comes after it) or does again from its first step, so
// an interrupted and resumed run is judged exactly as an uninterrupted one.
type LossGrowth struct {
	Factor float64 // DefaultGrowthFactor when 0
	Warn   func(msg string)

	first      float64
	sum        float64
	n          int
	fromStart  bool
	warnedOnce bool
}

func (g *LossGrowth) OnStep(s *State) error {
	if s.Epoch != 1 {
		return nil
	}
	loss, ok := s.StepMetrics["loss"]
	if !ok || math.IsNaN(loss) || math.IsInf(loss, 0) {
		return nil // NaNCheck's business
	}
	if s.Step == 1 {
		g.first, g.sum, g.n, g.fromStart = loss, 0, 0, true
	}
	g.sum += loss
	g.n++
	return nil
}

func (g *LossGrowth) OnEpochEnd(s *State) error {
	if s.Epoch != 1 || !g.fromStart || g.n == 0 || !(g.first > 0) {
		return nil
	}
	f := g.Factor
	if f <= 0 {
		f = DefaultGrowthFactor
	}
	mean := g.sum / float64(g.n)
	if !(mean > f*g.first) {
		return nil
	}
	msg := fmt.Sprintf("the training loss grew from %.4g (first step) to %.4g (mean of epoch 1), more than %gx", g.first, mean, f)
	if g.Warn == nil {
		return fmt.Errorf("%w: %s (lower the learning rate?)", ErrDiverged, msg)
	}
	if !g.warnedOnce {
		g.warnedOnce = true
		g.Warn(msg)
	}
	return nil
}
