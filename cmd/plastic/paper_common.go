package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/plasticity-lab/plastic/experiments"
	"github.com/plasticity-lab/plastic/graph"
)

// runExperiment is the common body of the `plastic paper` experiment
// commands (fig2, fig3, table2, fig6, classic, optimal): it opens the run
// folder, hands the experiment its Env (the run folder, the data folder,
// progress on stderr unless --quiet, metrics.jsonl, the device when the
// command has a device path and --device resolved to one), stores the
// result in summary.json and prints what was written.
func runExperiment(c *cli.Context, command string, f func(ctx context.Context, env experiments.Env) (summary map[string]any, out *experiments.Output, err error)) error {
	r, ctx, _, err := startRun(c, command)
	if err != nil {
		return err
	}
	var log io.Writer = os.Stderr
	if c.Bool(flagQuiet) {
		log = nil
	}
	env := experiments.Env{Dir: r.Dir, DataDir: c.String(flagDataDir), Log: log, Metrics: r.AppendMetrics}
	dev, closeDev, err := runDevice(c, r)
	if err != nil {
		return err
	}
	defer closeDev()
	if dev != nil && env.Cells == nil {
		// the experiments with a device path (deviceCommands)
		env.Device = dev
		r.Summary["device_work"] = "the rule-based re-trainings; rule learning and selection on the CPU"
	}
	summary, out, err := f(ctx, env)
	for k, v := range summary {
		r.Summary[k] = v
	}
	if err != nil {
		return err
	}
	r.Summary["tables"], r.Summary["figures"] = out.Tables, out.Figures
	if len(out.Rules) > 0 {
		r.Summary["rules"] = out.Rules
	}
	if len(out.Notes) > 0 {
		r.Summary["notes"] = out.Notes
	}
	w := c.App.Writer
	for _, n := range out.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	fmt.Fprintf(w, "wrote %s: %s\n", r.Dir, strings.Join(append(append(append([]string{}, out.Tables...), out.Figures...), out.Rules...), ", "))
	return nil
}

// paperDataList reads a comma-separated or repeated --data flag.
func paperDataList(c *cli.Context, name string) []string {
	var out []string
	for _, s := range c.StringSlice(name) {
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// learnFlags are the flags of a meta-learned rule (prefix "t3-", "output-", "rnn-").
func learnFlags(prefix, what string, d experiments.RuleLearning) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: prefix + "learn-data", Value: d.Data, Usage: "data set the " + what + " is learned on"},
		&cli.IntFlag{Name: prefix + "learn-nodes", Value: d.Net.Nodes, Usage: "|V| of the network the " + what + " is learned on"},
		&cli.IntFlag{Name: prefix + "learn-cap", Value: d.Net.Cap, Usage: "k of that network"},
		&cli.IntFlag{Name: prefix + "learn-epochs", Value: d.Epochs, Usage: "outer epochs of meta-learning (batches of 100, Adam lr 1e-2, L2 0.01)"},
		&cli.IntFlag{Name: prefix + "learn-n", Value: 10000, Usage: "training examples of meta-learning"},
		&cli.StringFlag{Name: prefix + "learn-loss", Value: lossOr(d.Loss), Usage: "meta-learning loss: softmax-ce (the authors' code), ce or mse"},
		&cli.IntFlag{Name: prefix + "learn-hidden", Value: 20, Usage: "hidden units of the small-NN RNN rule"},
		&cli.StringFlag{Name: prefix + "learn-param", Value: paramOr(d.Param), Usage: "RNN rule parameterization: nn (a small NN, the paper's) or table (the authors' code)"},
	}
}

func lossOr(l string) string {
	if l == "" {
		return graph.LossSoftmaxCE
	}
	return l
}

func paramOr(p string) string {
	if p == "" {
		return experiments.ParamNN
	}
	return p
}

func learnFrom(c *cli.Context, prefix string, d experiments.RuleLearning) experiments.RuleLearning {
	d.Data = c.String(prefix + "learn-data")
	d.Net.Nodes, d.Net.Cap = c.Int(prefix+"learn-nodes"), c.Int(prefix+"learn-cap")
	d.Epochs, d.NTrain = c.Int(prefix+"learn-epochs"), c.Int(prefix+"learn-n")
	d.Loss, d.Hidden, d.Param = c.String(prefix+"learn-loss"), c.Int(prefix+"learn-hidden"), c.String(prefix+"learn-param")
	return d
}
