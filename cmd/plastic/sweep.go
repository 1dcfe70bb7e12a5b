package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/plasticity-lab/plastic/sweep"
)

func init() {
	register(&cli.Command{
		Name:      "sweep",
		Usage:     "train a grid of runs (optimizers x variants x learning rates x fractions x seeds) and summarise it",
		ArgsUsage: "[-- more train flags]",
		Description: `Expands the grid into cells, each a ` + "`plastic train`" + ` run in its own folder
--out/NAME/<cell> (configuration, lrX, fX, sSEED), trains at most --jobs cells at once (each
in its own process, this binary's train command), then prints and writes NAME/summary.csv:
mean ± std (over seeds, n-1) of the final and best test accuracy per configuration and, with
--baseline, the seed-wise wins against that configuration.

Running the same sweep again skips finished cells (and diverged ones: divergence is a result),
resumes interrupted ones from their checkpoint and trains the rest, so a sweep can be stopped
with Ctrl-C and continued, or extended with more seeds. One sweep per folder at a time.

A variant is NAME:--flag=value,--flag=value (flags of plastic train); an item @FILE takes the
flags of a --config style file (e.g. NAME:@configs/neuroplastic-mnist-best.flags,--lr=0.05;
later flags win). Variant and optimizer names join into the configuration's name. Flags after
-- go to every cell.

With --executor slurm the cells run on a Slurm cluster instead: ONE job array (task i trains
cell i of NAME/grid.json) and a collect job after it that writes summary.csv; the flags
--partition ... --sbatch-arg pass through to sbatch; --dry-run prints the batch script.
Submitting the same sweep again submits only the cells that are not done. Follow it with
plastic sweep status NAME (see README, Running on a cluster).

Examples:
  plastic sweep --name mnist --dataset mnist --epochs 10 --seeds 3 --baseline grad-only \
      --variant np-best:@configs/neuroplastic-mnist-best.flags \
      --variant grad-only:@configs/neuroplastic-grad-only.flags \
      --variant adam:--optimizer=adam,--lr=1e-3
  plastic sweep --name lr --optimizers sgd,adam --lrs 1e-3,1e-2,0.1 --seeds 2 --jobs 2
  plastic sweep --name mnist --summary-only --baseline grad-only
  plastic sweep --name lr --optimizers sgd,adam --lrs 1e-3,1e-2 --seeds 3 --executor slurm \
      --partition gpu --gres gpu:1 --time 1:00:00 --max-parallel 8 -- --device cuda
  plastic sweep status lr`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "name", Usage: "the sweep's folder under --out (required; the same name continues a sweep)"},
			&cli.StringSliceFlag{Name: "optimizers", Usage: "optimizers to compare (neuroplastic, sgd, adam, adamw), comma-separated"},
			&cli.StringSliceFlag{Name: "variant", Usage: "a named set of train flags `SPEC` = NAME:--flag=v,--flag=v (an item @FILE: the flags in FILE; repeatable)"},
			&cli.Float64SliceFlag{Name: "lrs", Usage: "learning rates, comma-separated (none: each configuration's own --lr)"},
			&cli.Float64SliceFlag{Name: "fractions", Usage: "training-set fractions in (0,1], comma-separated (none: the full set)"},
			&cli.IntFlag{Name: "seeds", Value: 1, Usage: "`N` seeds per configuration: --seed .. --seed+N-1"},
			&cli.IntFlag{Name: "jobs", Value: 1, Usage: "cells trained at once (each a process; mind the cores)"},
			&cli.StringFlag{Name: "baseline", Usage: "configuration to count seed-wise wins against (e.g. grad-only)"},
			&cli.StringFlag{Name: "model", Value: "mlp", Usage: "network of every cell (plastic train --model)"},
			&cli.StringFlag{Name: "dataset", Value: "mnist", Usage: "data set of every cell (plastic train --dataset)"},
			&cli.IntFlag{Name: "epochs", Value: 10, Usage: "epochs of every cell"},
			&cli.IntFlag{Name: "batch-size", Value: 128, Usage: "mini-batch size of every cell"},
			&cli.BoolFlag{Name: "dry-run", Usage: "list the cells and their train flags (slurm: print the batch script); train nothing"},
			&cli.BoolFlag{Name: "summary-only", Usage: "summarise the sweep folder as it is; train nothing"},
		}, executorFlags()...),
		Subcommands: sweepSubcommands(),
		Action:      sweepAction,
	})
}

func sweepAction(c *cli.Context) error {
	name := c.String("name")
	if name == "" {
		return errors.New("--name: required (the sweep's folder under --out)")
	}
	if strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return fmt.Errorf("--name %q: want a plain folder name", name)
	}
	dir := filepath.Join(c.String(flagOut), name)
	w := c.App.Writer
	if w == nil {
		w = os.Stdout
	}
	if c.Bool("summary-only") {
		return summarizeSweep(w, dir, c.String("baseline"))
	}
	g, err := gridFromCLI(c)
	if err != nil {
		return err
	}
	cells, err := g.Expand()
	if err != nil {
		return err
	}
	for _, cell := range cells {
		if err := validateTrainArgs(cell.Args); err != nil {
			return fmt.Errorf("cell %s (%s): %w", cell.ID, strings.Join(cell.Args, " "), err)
		}
	}
	if c.Int("jobs") < 1 {
		return fmt.Errorf("--jobs %d: want >= 1", c.Int("jobs"))
	}
	executor, err := executorOf(c)
	if err != nil {
		return err
	}
	if b := c.String("baseline"); b != "" && !hasArm(cells, b) {
		return fmt.Errorf("--baseline %q: not a configuration of the grid", b)
	}
	if executor == executorSlurm {
		if c.IsSet("jobs") {
			return errors.New("--jobs is the local executor's: on Slurm, --max-parallel caps the tasks running at once")
		}
		return submitSweep(c, w, g, cells, dir)
	}
	if c.Bool("dry-run") {
		for _, cell := range cells {
			fmt.Fprintf(w, "%s\t%s\n", cell.ID, strings.Join(cell.Args, " "))
		}
		fmt.Fprintf(w, "%d cells into %s\n", len(cells), dir)
		return nil
	}
	if err := checkNoSlurmJobs(dir, w); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("sweep: cannot find this program to run the cells: %w", err)
	}
	ctx, stop := signalContext()
	defer stop()
	var progress io.Writer = w
	if c.Bool(flagQuiet) {
		progress = nil
	}
	fmt.Fprintf(w, "sweep %s: %d cells, %d at a time\n", dir, len(cells), c.Int("jobs"))
	_, xerr := sweep.Execute(ctx, g, cells, sweep.Options{
		Dir: dir, Jobs: c.Int("jobs"), Progress: progress,
		Run: execRunner(self, dataDirIfSet(c), c.String(flagDevice)),
	})
	serr := summarizeSweep(w, dir, c.String("baseline"))
	if xerr != nil && ctx.Err() != nil {
		return fmt.Errorf("sweep %s interrupted; run the same command again to continue it", dir)
	}
	if xerr != nil {
		return fmt.Errorf("sweep %s: %w", dir, xerr)
	}
	return serr
}

func hasArm(cells []sweep.Cell, arm string) bool {
	for _, c := range cells {
		if c.Arm == arm {
			return true
		}
	}
	return false
}

// gridFromCLI reads the grid flags; seeds run from the global --seed.
func gridFromCLI(c *cli.Context) (sweep.Grid, error) {
	g := sweep.Grid{LRs: c.Float64Slice("lrs"), Fractions: c.Float64Slice("fractions")}
	for _, o := range c.StringSlice("optimizers") {
		if o = strings.TrimSpace(o); o != "" {
			g.Optimizers = append(g.Optimizers, o)
		}
	}
	specs, err := sweep.JoinVariantArgs(c.StringSlice("variant"))
	if err != nil {
		return g, err
	}
	for _, s := range specs {
		v, err := parseVariantSpec(s)
		if err != nil {
			return g, err
		}
		g.Variants = append(g.Variants, v)
	}
	n := c.Int("seeds")
	if n < 1 {
		return g, fmt.Errorf("--seeds %d: want >= 1", n)
	}
	for i := 0; i < n; i++ {
		g.Seeds = append(g.Seeds, c.Int64(flagSeed)+int64(i))
	}
	g.Base = []string{
		"--model=" + c.String("model"), "--dataset=" + c.String("dataset"),
		"--epochs=" + strconv.Itoa(c.Int("epochs")), "--batch-size=" + strconv.Itoa(c.Int("batch-size")),
	}
	g.Base = append(g.Base, c.Args().Slice()...)
	return g, nil
}

// parseVariantSpec reads NAME:--flag=v,... where any item may also be
// @FILE, a --config style file of train flags, expanded in place (later
// flags win, so NAME:@preset.flags,--lr=0.05 changes the preset's lr).
func parseVariantSpec(s string) (sweep.Variant, error) {
	name, rest, ok := strings.Cut(s, ":")
	if !ok {
		return sweep.ParseVariant(s)
	}
	var items []string
	for _, it := range strings.FieldsFunc(rest, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		file, isFile := strings.CutPrefix(it, "@")
		if !isFile {
			items = append(items, it)
			continue
		}
		entries, err := readConfigFile(file)
		if err != nil {
			return sweep.Variant{}, fmt.Errorf("--variant %s: %w", name, err)
		}
		for _, e := range entries {
			if e.value == "\x00" {
				items = append(items, "--"+e.name)
			} else {
				items = append(items, "--"+e.name+"="+e.value)
			}
		}
	}
	return sweep.ParseVariant(name + ":" + strings.Join(items, ","))
}

// validateTrainArgs parses args with the flags of `plastic train` and
// checks them as train would (model, data set, optimizer and its options),
// so a bad grid fails before anything trains.
func validateTrainArgs(args []string) error {
	var cmd *cli.Command
	for _, c := range commands {
		if c.Name == "train" {
			cmd = c
		}
	}
	if cmd == nil {
		return errors.New("no train command in this build")
	}
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	for _, f := range cmd.Flags {
		if err := f.Apply(fs); err != nil {
			return err
		}
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (train flags only)", fs.Arg(0))
	}
	_, err := jobFromCLI(cli.NewContext(newApp(), fs, nil))
	return nameFlag(err, cmd.Flags)
}

// dataDirIfSet is --data-dir when the user named it, else "" (the cells
// then use the default, with its fallback to the module's MNIST copy).
func dataDirIfSet(c *cli.Context) string {
	if c.IsSet(flagDataDir) {
		return c.String(flagDataDir)
	}
	return ""
}

// execRunner runs a cell as `self train` in its own process (output to the
// cell's log), so cells are isolated and each manifest records the exact
// command line that reproduces it. A cell dies with the sweep: on Linux it
// gets SIGTERM (and stops as an interrupted run) when the sweep's process
// is gone, even after a SIGKILL of the sweep; everywhere, the lock of its
// run folder keeps a leftover cell and the next sweep apart.
func execRunner(self, dataDir, device string) sweep.Runner {
	return func(ctx context.Context, cell sweep.Cell, dir string, resume bool, log io.Writer) error {
		args := append(cellGlobals(dir, dataDir, device), sweep.TrainArgs(cell, dir, resume)...)
		cmd := exec.CommandContext(ctx, self, args...)
		cmd.Stdout, cmd.Stderr = log, log
		// Cells run in their own process group, so a Ctrl-C at the terminal
		// reaches only the sweep, which passes exactly one SIGINT on: the
		// cell records an interrupted run that the next sweep resumes (a
		// second SIGINT would make it quit at once).
		cmd.SysProcAttr = cellProcAttr()
		cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
		cmd.WaitDelay = time.Minute
		fmt.Fprintf(log, "$ %s %s\n", self, strings.Join(args, " "))
		// The parent-death signal is tied to the thread that started the
		// child: keep this goroutine on it until the child is gone.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("plastic train: %w (see the log)", err)
		}
		return nil
	}
}

// signalContext is cancelled by Ctrl-C / SIGTERM.
func signalContext() (context.Context, context.CancelFunc) {
	in := interruptible()
	return in.ctx, in.stop
}

// summarizeSweep prints the summary of the runs in dir and writes
// dir/summary.csv (sweep.Report), naming the --baseline flag in its errors.
func summarizeSweep(w io.Writer, dir, baseline string) error {
	return baselineFlag(sweep.Report(w, dir, baseline))
}
