package main

import (
	"context"
	"fmt"
	"math"

	"github.com/urfave/cli/v2"

	"github.com/plasticity-lab/plastic/experiments"
)

// `plastic paper table2`: Table 2's accuracy columns.
func init() {
	d := experiments.DefaultTable2()
	flags := []cli.Flag{
		&cli.StringSliceFlag{Name: "data", Value: cli.NewStringSlice(d.Data...), Usage: "data sets; file sets whose files are absent are skipped with a note"},
		&cli.IntFlag{Name: "seeds", Value: d.Seeds, Usage: "seeds per row (--seed, --seed+1, ...: new subset, network and order)"},
		&cli.IntFlag{Name: "nodes", Value: d.Net.Nodes, Usage: "|V|"},
		&cli.IntFlag{Name: "cap", Value: d.Net.Cap, Usage: "k"},
		&cli.IntFlag{Name: "passes", Value: d.Passes, Usage: "passes (epochs) over the training examples"},
		&cli.IntFlag{Name: "n-train", Value: d.NTrain, Usage: "training examples (a random subset of the training images)"},
		&cli.StringFlag{Name: "t3-rules", Usage: "T=3 rule file instead of learning the small-NN RNN rule"},
	}
	flags = append(flags, learnFlags("t3-", "T=3 RNN rule (next to the fixed perceptron output rule)", d.T3Learn)...)
	flags = append(flags, firingFlag())
	registerPaper(&cli.Command{
		Name:  "table2",
		Usage: "Table 2: test accuracy of |V|=1000, k=500 networks trained by rules for 2 epochs: T=3, T=1* (A all ones), T=1",
		UsageText: "plastic [global options] paper table2 [options]\n\nExamples:\n" +
			"  plastic --config configs/table2.flags paper table2\n" +
			"  plastic --config configs/table2-mnist.flags paper table2 --seeds 2",
		Description: "For each seed: a random --n-train training images (in the random order of the draw), a new network\n" +
			"(|V|=1000, k=500, p=0.5, A ~ N(0,1), or all ones for T=1*), the rules applied on misclassified examples\n" +
			"for --passes passes, test accuracy on the whole test set. T=1 and T=1*: the perceptron output rule.\n" +
			"T=3 (Appendix A.3): a small-NN RNN rule (20 hidden units) meta-learned on a |V|=200, k=100 network next\n" +
			"to the fixed perceptron output rule, the epoch kept scored by one pass of a --nodes/--cap network on 2,000\n" +
			"held-out training examples. --firing for every network (rule learning included). Writes table2_runs.csv\n" +
			"(every seed), table2.csv (means beside the paper and the authors' code run here), table2.png/.svg and the\n" +
			"T=3 rule file.",
		Flags: append(append(flags, runFlags()...), paperExecutorFlags()...),
		Action: func(c *cli.Context) error {
			cfg := experiments.DefaultTable2()
			cfg.Data, cfg.Seeds = paperDataList(c, "data"), c.Int("seeds")
			cfg.Net.Nodes, cfg.Net.Cap, cfg.Passes, cfg.NTrain = c.Int("nodes"), c.Int("cap"), c.Int("passes"), c.Int("n-train")
			cfg.T3Rules, cfg.T3Learn, cfg.Seed = c.String("t3-rules"), learnFrom(c, "t3-", cfg.T3Learn), c.Int64(flagSeed)
			firing, err := firingOf(c)
			if err != nil {
				return err
			}
			cfg.Net.Firing = firing
			return runPaperExperiment(c, "paper-table2", func(ctx context.Context, env experiments.Env) (map[string]any, *experiments.Output, error) {
				res, err := experiments.Table2(ctx, env, cfg)
				if err != nil {
					return nil, nil, err
				}
				w := c.App.Writer
				fmt.Fprintf(w, "%-14s %-5s %-18s %-7s %s\n", "data", "row", "test (mean+-sd)", "paper", "authors' code here")
				rows := map[string]any{}
				for _, r := range res.Rows {
					fmt.Fprintf(w, "%-14s %-5s %6.2f%% +- %5.2f  %-7s %s   seeds: %v\n", r.Data, r.Variant, 100*r.TestMean, 100*r.TestSD, pctOr(r.Paper), pctOr(r.AuthorsCode), r.Test)
					rows[r.Data+" "+r.Variant] = map[string]any{"test_mean": r.TestMean, "test_sd": r.TestSD, "test": r.Test, "train": r.Train, "seeds": r.Seeds}
				}
				return map[string]any{"rows": rows}, &res.Output, nil
			})
		},
	})
}

func pctOr(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*v)
}
