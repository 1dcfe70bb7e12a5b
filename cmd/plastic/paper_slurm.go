package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/plasticity-lab/plastic/experiments"
	"github.com/plasticity-lab/plastic/run"
	"github.com/plasticity-lab/plastic/sweep"
)

// The units of an experiment run on Slurm (paper fig3, paper table2): the
// submitter plans them; a prepare job learns the rules; a job array computes
// the re-trainings / seeds, one per task; a collect job runs the experiment
// once more from the stored units and writes its run folder, tables and
// figures, the same as a local run's.

// Hidden flags of the jobs.
const (
	flagUnitsMode  = "units-mode"
	flagUnitsDir   = "units-dir"
	flagUnitsIndex = "units-index"
)

// paperExecutorFlags are executorFlags plus the jobs' hidden flags.
func paperExecutorFlags() []cli.Flag {
	return append(executorFlags(),
		&cli.BoolFlag{Name: "dry-run", Usage: "slurm: plan the units and print the three batch scripts; submit nothing, leave nothing"},
		&cli.StringFlag{Name: flagUnitsMode, Hidden: true, Usage: "prepare, task or collect: what this job of a Slurm submission does"},
		&cli.StringFlag{Name: flagUnitsDir, Hidden: true, Usage: "the submission's units folder"},
		&cli.IntFlag{Name: flagUnitsIndex, Value: -1, Hidden: true, Usage: "task: the unit to compute"},
	)
}

// notPassed are the flags a submission does not hand on to its jobs.
var notPassed = map[string]bool{"executor": true, "dry-run": true, flagUnitsMode: true, flagUnitsDir: true, flagUnitsIndex: true, flagName: true, "help": true}

type experimentFunc = func(ctx context.Context, env experiments.Env) (map[string]any, *experiments.Output, error)

// runPaperExperiment is runExperiment with the executor: local (here),
// slurm (submit), or one of the jobs of a submission.
func runPaperExperiment(c *cli.Context, command string, f experimentFunc) error {
	executor, err := executorOf(c)
	if err != nil {
		return err
	}
	if c.Bool("dry-run") && executor != executorSlurm {
		return fmt.Errorf("--dry-run prints a Slurm submission: it needs --executor slurm")
	}
	if executor == executorSlurm || c.String(flagUnitsMode) != "" {
		if err := cpuOnly(c, "the units of a Slurm submission compute on the CPU"); err != nil {
			return err
		}
	}
	switch mode := sweep.UnitsMode(c.String(flagUnitsMode)); mode {
	case "":
		if executor == executorSlurm {
			return submitExperiment(c, command, f)
		}
		return runExperiment(c, command, f)
	case sweep.UnitsPrepare, sweep.UnitsTask:
		return runUnitsJob(c, mode, f)
	case sweep.UnitsCollect:
		u, err := sweep.NewUnits(c.String(flagUnitsDir), mode, -1)
		if err != nil {
			return err
		}
		return runExperiment(c, command, func(ctx context.Context, env experiments.Env) (map[string]any, *experiments.Output, error) {
			env.Cells = u
			return f(ctx, env)
		})
	default:
		return fmt.Errorf("--%s %q: want prepare, task or collect", flagUnitsMode, mode)
	}
}

// quietly runs f with the command's printing thrown away (a plan or a
// job's units give zeros for what they skip).
func quietly(c *cli.Context, env experiments.Env, f experimentFunc) error {
	w := c.App.Writer
	c.App.Writer = io.Discard
	defer func() { c.App.Writer = w }()
	ctx, stop := signalContext()
	defer stop()
	_, _, err := f(ctx, env)
	return err
}

// runUnitsJob is the prepare job (learn and store the rules) or array task
// (compute and store one unit) of a submission.
func runUnitsJob(c *cli.Context, mode sweep.UnitsMode, f experimentFunc) error {
	dir := c.String(flagUnitsDir)
	u, err := sweep.NewUnits(dir, mode, c.Int(flagUnitsIndex))
	if err != nil {
		return err
	}
	scratch, err := os.MkdirTemp(dir, string(mode)+"-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	env := experiments.Env{Dir: scratch, DataDir: c.String(flagDataDir), Cells: u}
	if !c.Bool(flagQuiet) {
		env.Log = os.Stderr
	}
	if err := quietly(c, env, f); err != nil {
		return err
	}
	if !u.Computed() {
		return fmt.Errorf("unit %d of %s was not asked for: the job ran with other settings than the submission planned", u.Index, dir)
	}
	return nil
}

// submitExperiment plans the experiment's units and submits its jobs: the
// prepare job, the array (after it succeeded) and the collect job (after
// the array ended, however), which writes the run folder --out/NAME. With
// --dry-run it prints the three batch scripts instead and removes what it
// planned.
func submitExperiment(c *cli.Context, command string, f experimentFunc) error {
	out, err := filepath.Abs(c.String(flagOut))
	if err != nil {
		return err
	}
	id := c.String(flagName)
	if id == "" {
		id = run.NewID(command, time.Now(), c.Int64(flagSeed))
	}
	if _, err := os.Stat(filepath.Join(out, id)); err == nil {
		return fmt.Errorf("run folder %s already exists (choose another --name)", filepath.Join(out, id))
	}
	dir := filepath.Join(out, id+".slurm")
	_, outErr := os.Stat(out)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s already exists: a submission of that name was made (choose another --name)", dir)
		}
		return err
	}
	fail := func(err error) error {
		os.RemoveAll(dir) // a refused submission leaves nothing
		return err
	}
	opts := slurmOptions(c)
	if err := opts.Check(); err != nil {
		return fail(err)
	}
	// The plan: every unit the experiment asks for, nothing computed.
	plan, _ := sweep.NewUnits(dir, sweep.UnitsPlan, -1)
	scratch, err := os.MkdirTemp(dir, "plan-*")
	if err != nil {
		return fail(err)
	}
	err = quietly(c, experiments.Env{Dir: scratch, DataDir: c.String(flagDataDir), Cells: plan}, f)
	os.RemoveAll(scratch)
	if err != nil {
		return fail(err)
	}
	list := plan.List()
	if len(list.Results) == 0 {
		return fail(fmt.Errorf("%s: the experiment has no units to run on Slurm", command))
	}
	if err := plan.WriteList(list); err != nil {
		return fail(err)
	}
	self, err := selfPath()
	if err != nil {
		return fail(err)
	}
	globals, err := taskGlobals(c)
	if err != nil {
		return fail(err)
	}
	globals = append(globals, "--seed", strconv.FormatInt(c.Int64(flagSeed), 10))
	flags, err := passFlags(c)
	if err != nil {
		return fail(err)
	}
	base := append(append(append([]string{self}, globals...), commandWords(c)...), flags...)
	job := func(more ...string) []string { return append(append([]string{}, base...), more...) }
	logs := filepath.Join(dir, "logs")
	if err := os.Mkdir(logs, 0o755); err != nil {
		return fail(err)
	}
	name := "plastic-" + id
	batches := []struct {
		file string
		b    sweep.Batch
	}{
		{"prepare.sbatch", sweep.Batch{JobName: name + "-prepare", Output: filepath.Join(logs, "prepare-%j.out"), Options: opts.Lines(true),
			Command: job("--"+flagUnitsMode+"=prepare", "--"+flagUnitsDir+"="+dir)}},
		{"array.sbatch", sweep.Batch{JobName: name, Array: sweep.ArraySpec(seq(len(list.Results)), opts.MaxParallel),
			Output: filepath.Join(logs, "unit-%A_%a.out"), Options: opts.Lines(true),
			Command: job("--"+flagUnitsMode+"=task", "--"+flagUnitsDir+"="+dir, "--"+flagUnitsIndex, "$SLURM_ARRAY_TASK_ID")}},
		{"collect.sbatch", sweep.Batch{JobName: name + "-collect", Output: filepath.Join(logs, "collect-%j.out"), Options: opts.Lines(false),
			Command: job("--"+flagUnitsMode+"=collect", "--"+flagUnitsDir+"="+dir, "--"+flagName+"="+id)}},
	}
	if c.Bool("dry-run") {
		w := c.App.Writer
		fmt.Fprintf(w, "# %s on Slurm: %d rule sets, %d units; nothing submitted, nothing written (--dry-run)\n", command, len(list.Rules), len(list.Results))
		after := []string{"", " --dependency=afterok:<prepare job id>", " --dependency=afterany:<array job id>"}
		for i, b := range batches {
			fmt.Fprintf(w, "# sbatch%s %s:\n", after[i], filepath.Join(dir, b.file))
			script := b.b.Script()
			if i > 0 {
				script = commentOut(script)
			}
			fmt.Fprint(w, script)
		}
		fail(nil)
		if outErr != nil {
			os.Remove(out) // made for the plan (only if still empty)
		}
		return nil
	}
	for _, b := range batches {
		if err := run.WriteFileAtomic(filepath.Join(dir, b.file), []byte(b.b.Script())); err != nil {
			return fail(err)
		}
	}
	ctx, stop := signalContext()
	defer stop()
	sl := sweep.Slurm{}
	sub := sweep.Submission{Time: time.Now().UTC(), Cells: seq(len(list.Results)), Script: "array.sbatch", Collect: "collect.sbatch", Options: opts}
	if sub.PrepareJob, err = sl.Submit(ctx, filepath.Join(dir, "prepare.sbatch")); err != nil {
		return fail(err)
	}
	record := func() error {
		b, _ := json.MarshalIndent(sweep.SlurmRecord{Submissions: []sweep.Submission{sub}}, "", "  ")
		return run.WriteFileAtomic(filepath.Join(dir, sweep.SlurmFile), append(b, '\n'))
	}
	if sub.ArrayJob, err = sl.Submit(ctx, filepath.Join(dir, "array.sbatch"), "--dependency=afterok:"+sub.PrepareJob); err != nil {
		record()
		return fmt.Errorf("prepare job %s submitted, the job array not: %w", sub.PrepareJob, err)
	}
	if sub.CollectJob, err = sl.Submit(ctx, filepath.Join(dir, "collect.sbatch"), "--dependency=afterany:"+sub.ArrayJob); err != nil {
		record()
		return fmt.Errorf("prepare job %s and job array %s submitted, the collect job not: %w", sub.PrepareJob, sub.ArrayJob, err)
	}
	if err := record(); err != nil {
		return err
	}
	w := c.App.Writer
	fmt.Fprintf(w, "%s: submitted prepare job %s (%d rule sets), job array %s (%d units) and collect job %s\n",
		command, sub.PrepareJob, len(list.Rules), sub.ArrayJob, len(list.Results), sub.CollectJob)
	fmt.Fprintf(w, "  the collect job writes the run folder %s; jobs and logs: %s (squeue -j %s,%s,%s)\n",
		filepath.Join(out, id), dir, sub.PrepareJob, sub.ArrayJob, sub.CollectJob)
	return nil
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// commandWords are the command's names from the top: paper fig3.
func commandWords(c *cli.Context) []string {
	var words []string
	for _, ctx := range c.Lineage() {
		if ctx.Command != nil && ctx.Command.Name != "" && ctx.Command.Name != c.App.Name {
			words = append([]string{ctx.Command.Name}, words...)
		}
	}
	return words
}

// passFlags writes every flag of the command with its resolved value
// (command line, config files or default) for the jobs, but the executor's.
func passFlags(c *cli.Context) ([]string, error) {
	var out []string
	for _, f := range c.Command.Flags {
		name := f.Names()[0]
		if notPassed[name] || slicesContains(slurmFlagNames, name) {
			continue
		}
		var s string
		switch v := flagValue(c.Value(name)).(type) {
		case []string:
			if len(v) == 0 {
				if c.IsSet(name) {
					return nil, fmt.Errorf("--%s: an empty list cannot be passed to the jobs", name)
				}
				continue
			}
			s = strings.Join(v, ",")
		case []float64:
			parts := make([]string, len(v))
			for i, x := range v {
				parts[i] = strconv.FormatFloat(x, 'g', -1, 64)
			}
			s = strings.Join(parts, ",")
		case []int:
			parts := make([]string, len(v))
			for i, x := range v {
				parts[i] = strconv.Itoa(x)
			}
			s = strings.Join(parts, ",")
		case float64:
			s = strconv.FormatFloat(v, 'g', -1, 64)
		case string, bool, int, int64, uint, uint64:
			s = fmt.Sprint(v)
		case nil:
			continue
		default:
			return nil, fmt.Errorf("--%s: a %T cannot be passed to the jobs", name, v)
		}
		out = append(out, "--"+name+"="+s)
	}
	return out, nil
}

func slicesContains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
