package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/plasticity-lab/plastic/baseline"
	"github.com/plasticity-lab/plastic/cuda"
	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/models"
	"github.com/plasticity-lab/plastic/plasticity"
	"github.com/plasticity-lab/plastic/run"
	"github.com/plasticity-lab/plastic/train"
)

// ruleTrainOnDevice is `plastic rule train` on the device: the --repeats
// runs are the networks of one batched device computation (each with the
// example order of the CPU run of the same repeat), through one train.Run.
// It writes what the CPU path writes: a metrics line per repeat and pass,
// the first repeat's accuracy curve (--every) and network, the summary.
func ruleTrainOnDevice(ctx context.Context, c *cli.Context, r *run.Run, dev *cuda.Context, net *models.RNN, rs *plasticity.RuleSet,
	sch plasticity.Scheme, trainSet, testSet *data.Set, chunk int) error {
	out := c.App.Writer
	n := c.Int("repeats")
	nets, seeds := make([]*models.RNN, n), make([]int64, n)
	for i := range nets {
		nets[i], seeds[i] = net, c.Int64(flagSeed)+int64(i)
	}
	dt, err := plasticity.NewDeviceTrainer(dev, nets, rs, sch)
	if err != nil {
		return err
	}
	defer dt.Close()
	task, err := plasticity.NewDeviceTrainTask(dt, trainSet, testSet, c.Int("passes"), chunk, c.Bool("shuffle"), seeds)
	if err != nil {
		return err
	}
	task.EvalSteps = c.Int("every") > 0
	task.SkipTrainAcc = !c.Bool("train-eval")
	var curve []map[string]float64
	hooks := []any{quietProgress(c, fmt.Sprintf("rule train (%d on the device)", n))}
	if task.EvalSteps {
		hooks = append(hooks, train.Every{N: 1, F: func(s *train.State) error {
			curve = append(curve, map[string]float64{"examples": float64(s.Samples), "test_acc": task.StepTestAcc[0], "online_acc": task.StepOnline[0]})
			fmt.Fprintf(out, "examples %d: test accuracy %.4f\n", s.Samples, task.StepTestAcc[0])
			return nil
		}})
	}
	hooks = append(hooks, deviceEpochHook(func(s *train.State) error {
		for i := range nets {
			m := map[string]float64{"repeat": float64(i + 1), "online_acc": task.OnlineAcc[i]}
			if task.TrainAcc != nil {
				m["train_acc"] = task.TrainAcc[i]
			}
			if task.TestAcc != nil {
				m["test_acc"] = task.TestAcc[i]
			}
			for _, k := range []string{"epoch", "epoch_seconds", "samples_per_s"} {
				m[k] = s.EpochMetrics[k]
			}
			if err := r.AppendMetrics(m); err != nil {
				return err
			}
		}
		return nil
	}))
	if err := train.Run(ctx, task, train.Options{Hooks: hooks}); err != nil {
		return err
	}
	trained, err := dt.Trained()
	if err != nil {
		return err
	}
	testAcc := task.TestAcc
	if testAcc == nil {
		testAcc = make([]float64, n)
	}
	if err := baseline.SaveRNN(r.Path(networkFile), trained[0], rulesNetInfo(c, r, testAcc[0])); err != nil {
		return err
	}
	trainAcc := task.TrainAcc
	if trainAcc == nil {
		trainAcc = make([]float64, n)
	}
	for i := range nets {
		fmt.Fprintf(out, "run %d: %s\n", i+1, accuracyLine(task.OnlineAcc[i], trainAcc[i], testAcc[i], task.TrainAcc != nil))
	}
	reportRuleRuns(c, r, task.OnlineAcc, task.TrainAcc, testAcc)
	if curve != nil {
		r.Summary["curve"] = curve
	}
	return nil
}

// deviceEpochHook is a train.EpochHook from a function.
type deviceEpochHook func(*train.State) error

func (f deviceEpochHook) OnEpochEnd(s *train.State) error { return f(s) }

// trainOnDevice trains one network with fixed rules on the device as
// plasticity.TrainTask would on the CPU (reset, passes over trainSet in
// data order, chunk examples per step) through train.Run with hooks, and
// returns the trained network.
func trainOnDevice(ctx context.Context, dev *cuda.Context, net *models.RNN, rs *plasticity.RuleSet, sch plasticity.Scheme,
	trainSet, testSet *data.Set, passes, chunk int, hooks []any) (*models.RNN, error) {
	dt, err := plasticity.NewDeviceTrainer(dev, []*models.RNN{net}, rs, sch)
	if err != nil {
		return nil, err
	}
	defer dt.Close()
	task, err := plasticity.NewDeviceTrainTask(dt, trainSet, testSet, passes, chunk, false, []int64{0})
	if err != nil {
		return nil, err
	}
	if err := train.Run(ctx, task, train.Options{Hooks: hooks}); err != nil {
		return nil, err
	}
	trained, err := dt.Trained()
	if err != nil {
		return nil, err
	}
	return trained[0], nil
}
