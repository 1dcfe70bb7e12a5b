package main

import (
	"fmt"
	"math/rand"

	"github.com/urfave/cli/v2"

	"github.com/plasticity-lab/plastic/baseline"
	"github.com/plasticity-lab/plastic/train"
)

// networkFile is the name of the trained network in a run folder (format:
// baseline/netfile.go), read by `plastic attack --run DIR`.
const networkFile = "network.rnn"

// The `gd` command: the gradient-descent baselines of the plasticity paper.
func init() {
	register(&cli.Command{
		Name:        "gd",
		Usage:       "baselines: the simple RNN trained by gradient descent (Adam) instead of plasticity rules",
		Subcommands: []*cli.Command{gdTrainCmd()},
	})
}

// gdNetFlags are the data and network flags of the rule commands that make
// sense for gradient descent.
func gdNetFlags() []cli.Flag {
	keep := map[string]bool{"data": true, "n-train": true, "n-test": true, "label-noise": true, "nodes": true,
		"cap": true, "p": true, "rounds": true, "input-ones": true, "firing": true}
	var out []cli.Flag
	for _, f := range netFlags(1) {
		if keep[f.Names()[0]] {
			out = append(out, f)
		}
	}
	return out
}

func gdTrainCmd() *cli.Command {
	flags := append(gdNetFlags(),
		&cli.StringFlag{Name: "train", Value: string(baseline.ModeAll), Usage: "weights trained: all (A, W, U, b, c; initialised uniform in [-0.5, 0.5]) or output (U and c; Fig. 2)"},
		&cli.Float64Flag{Name: "lr", Value: 1e-2, Usage: "Adam learning rate"},
		&cli.IntFlag{Name: "batch", Value: 100, Usage: "examples per mini-batch"},
		&cli.IntFlag{Name: "epochs", Value: 2, Usage: "passes over the training set"},
		&cli.StringFlag{Name: "save", Usage: "also write the trained network to `FILE` (it is always written to the run folder as " + networkFile + ")"},
	)
	return &cli.Command{
		Name:  "train",
		Usage: "train the simple RNN by Adam through its Gorgonia forward graph (cap ops) and save it",
		Description: "The same network as `plastic rule train` (masks and A drawn from --seed), trained by mini-batch Adam on\n" +
			"the mean cross-entropy. --train all re-initialises A, W, U, b, c uniform in [-0.5, 0.5] and trains them all\n" +
			"(the GD network of Fig. 5 / Table 2); --train output keeps A, sets b = 0 and W fixed uniform in [-0.5, 0.5]\n" +
			"(used when T > 1), and trains U and c only (Fig. 2). Per epoch: loss, train accuracy (2,000 examples) and\n" +
			"test accuracy in metrics.jsonl. The network is written atomically to " + networkFile + " in the run folder\n" +
			"(format PLASTRNN v1, see baseline/netfile.go); `plastic attack --run DIR` reads it.",
		UsageText: "plastic gd train [flags]\n\nExamples:\n" +
			"  plastic gd train --data halfspace --nodes 100 --cap 50 --epochs 5\n" +
			"  plastic gd train --data mnist --n-train 10000 --nodes 1000 --cap 500 --rounds 3 --train all\n" +
			"  plastic gd train --data mnist --n-train 10000 --nodes 1000 --cap 500 --train output --save gd-output.rnn",
		Flags:  append(flags, runFlags()...),
		Action: gdTrain,
	}
}

func gdTrain(c *cli.Context) error {
	mode, err := baseline.ParseMode(c.String("train"))
	if err != nil {
		return err
	}
	seed := c.Int64(flagSeed)
	cfg := baseline.Config{Mode: mode, LR: c.Float64("lr"), Batch: c.Int("batch"), Epochs: c.Int("epochs"), Seed: seed}
	if err := cfg.Validate(); err != nil {
		return err
	}
	trainSet, testSet, err := loadData(c)
	if err != nil {
		return err
	}
	net, err := newNet(c, trainSet, false)
	if err != nil {
		return err
	}
	baseline.Init(net, mode, rand.New(rand.NewSource(seed+1)))
	tr, err := baseline.NewTrainer(net, cfg)
	if err != nil {
		return err
	}
	defer tr.Close()
	task, err := baseline.NewTask(tr, trainSet, testSet)
	if err != nil {
		return fmt.Errorf("--data=%s: %w", c.String("data"), err)
	}
	r, ctx, _, err := startRun(c, "gd-train")
	if err != nil {
		return err
	}
	var last map[string]float64
	hooks := []any{quietProgress(c, "gd train"), train.NaNCheck{}, lastEpoch{&last}, runMetrics{r: r}}
	if err := train.Run(ctx, task, train.Options{Hooks: hooks}); err != nil {
		return err
	}
	trained, err := tr.Network()
	if err != nil {
		return err
	}
	info := baseline.NetInfo{Trainer: "gd-" + string(mode), Dataset: c.String("data"), Epochs: cfg.Epochs,
		TestAcc: last["test_acc"], Seed: seed, Run: r.Manifest.ID}
	paths := []string{r.Path(networkFile)}
	if p := c.String("save"); p != "" {
		paths = append(paths, p)
	}
	for _, p := range paths {
		if err := baseline.SaveRNN(p, trained, info); err != nil {
			return fmt.Errorf("saving the network: %w", err)
		}
	}
	r.Summary["train_acc"], r.Summary["test_acc"] = last["train_acc"], last["test_acc"]
	r.Summary["network"] = networkFile
	fmt.Fprintf(c.App.Writer, "gd (%s): train accuracy %.4f, test accuracy %.4f\nwrote %v\n", mode, last["train_acc"], last["test_acc"], paths)
	return nil
}
