package experiments

import (
	"context"
	"fmt"

	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/models"
	"github.com/plasticity-lab/plastic/plasticity"
	"github.com/plasticity-lab/plastic/train"
)

// retraining is one rule-based training run of an experiment: a network,
// its data and how it runs.
type retraining struct {
	net         *models.RNN
	train, test *data.Set
	run         ruleRun
}

// onDevice reports whether the experiment's re-trainings run on
// env.Device. Units run elsewhere (env.Cells) are single re-trainings: on
// the CPU. (So are those of multiplicative rules, see trainAll.)
func (e Env) onDevice() bool { return e.Device != nil && e.Cells == nil }

// trainAll runs re-trainings that share the rule set rs and the scheme s
// and returns their results in order: on env.Device as one batched
// computation (plasticity.DeviceTrainer, one network per re-training;
// their runs have the same passes, shuffling and curve), else one after
// the other on the CPU (trainRules). Both give the same predictions, so
// the same accuracies. Multiplicative rules train on the CPU, in float64
// (plasticity.Trainer; the device trainer keeps float32, whose range
// their weights leave).
func (e Env) trainAll(ctx context.Context, rs *plasticity.RuleSet, s plasticity.Scheme, rts []retraining) ([]ruleResult, error) {
	if len(rts) == 0 {
		return nil, nil
	}
	if !e.onDevice() || rs.Multiplicative {
		out := make([]ruleResult, len(rts))
		for i, rt := range rts {
			rr, err := trainRules(ctx, rt.net, rs, s, rt.train, rt.test, rt.run)
			if err != nil {
				return nil, err
			}
			out[i] = rr
		}
		return out, nil
	}
	return trainOnDevice(ctx, e, rs, s, rts)
}

// trainOnDevice is trainAll on env.Device: the re-trainings are the
// networks of one DeviceTrainTask through train.Run, with trainRules'
// hooks (curve points before training and after every CurveEvery
// examples, NaN check, the last epoch's accuracies).
func trainOnDevice(ctx context.Context, env Env, rs *plasticity.RuleSet, s plasticity.Scheme, rts []retraining) ([]ruleResult, error) {
	o := rts[0].run
	B := len(rts)
	nets, seeds := make([]*models.RNN, B), make([]int64, B)
	trains, tests, curves := make([]*data.Set, B), make([]*data.Set, B), make([]*data.Set, B)
	for b, rt := range rts {
		r := rt.run
		if r.Passes != o.Passes || r.Shuffle != o.Shuffle || r.CurveEvery != o.CurveEvery || (rt.test == nil) != (rts[0].test == nil) {
			return nil, fmt.Errorf("device re-trainings: run %d (%+v) differs from run 0 (%+v): they train in step", b, r, o)
		}
		nets[b], seeds[b], trains[b], tests[b] = rt.net, r.Seed, rt.train, rt.test
		curves[b] = r.CurveSet
		if curves[b] == nil {
			curves[b] = rt.test
		}
	}
	if rts[0].test == nil {
		tests = nil
	}
	dt, err := plasticity.NewDeviceTrainer(env.Device, nets, rs, s)
	if err != nil {
		return nil, err
	}
	defer dt.Close()
	sets := append(append([]*data.Set{}, trains...), tests...)
	if o.CurveEvery > 0 {
		sets = append(sets, curves...)
	}
	if err := dt.Preload(sets...); err != nil {
		return nil, err
	}
	chunk := trains[0].N
	if o.CurveEvery > 0 {
		chunk = o.CurveEvery
	}
	task, err := plasticity.NewDeviceTrainTaskEach(dt, trains, tests, o.Passes, chunk, o.Shuffle, seeds)
	if err != nil {
		return nil, err
	}
	res := make([]ruleResult, B)
	var hooks []any
	if o.CurveEvery > 0 {
		point := func(samples int64) error {
			acc, err := dt.AccuracyEach(curves)
			if err != nil {
				return err
			}
			for b, a := range acc {
				res[b].Curve = append(res[b].Curve, Point{samples, a})
			}
			return nil
		}
		if err := point(0); err != nil {
			return nil, err
		}
		hooks = append(hooks, train.Every{N: 1, F: func(st *train.State) error { return point(st.Samples) }})
	}
	hooks = append(hooks, train.NaNCheck{}, epochEnd(func(st *train.State) error {
		for b, rt := range rts {
			res[b].TrainAcc = task.TrainAcc[b]
			if task.TestAcc != nil {
				res[b].TestAcc = task.TestAcc[b]
			}
			if r := rt.run; r.Label != "" && r.Log != nil {
				fmt.Fprintf(r.Log, "%s: pass %d/%d train %.4f test %.4f\n", r.Label, st.Epoch, st.Epochs, res[b].TrainAcc, res[b].TestAcc)
			}
		}
		return nil
	}))
	if err := train.Run(ctx, task, train.Options{Hooks: hooks}); err != nil {
		return nil, err
	}
	return res, nil
}
