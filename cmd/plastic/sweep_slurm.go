package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/plasticity-lab/plastic/sweep"
)

// Executors of the grids: local processes, or a Slurm cluster.
const (
	executorLocal = "local"
	executorSlurm = "slurm"
)

// executorFlags choose where a grid runs and pass settings through to
// sbatch (plastic sweep, paper fig3, paper table2).
func executorFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "executor", Value: executorLocal, Usage: "where the cells run: local (processes here) or slurm (one job array and a collect job; see README, Running on a cluster)"},
		&cli.StringFlag{Name: "partition", Usage: "slurm: sbatch --partition"},
		&cli.StringFlag{Name: "time", Usage: "slurm: sbatch --time of each task (e.g. 2:00:00)"},
		&cli.StringFlag{Name: "mem", Usage: "slurm: sbatch --mem of each task (e.g. 8G)"},
		&cli.IntFlag{Name: "cpus-per-task", Usage: "slurm: sbatch --cpus-per-task"},
		&cli.StringFlag{Name: "gres", Usage: "slurm: sbatch --gres of each task (gpu:1 for --device cuda)"},
		&cli.StringFlag{Name: "account", Usage: "slurm: sbatch --account"},
		&cli.StringFlag{Name: "qos", Usage: "slurm: sbatch --qos"},
		&cli.IntFlag{Name: "max-parallel", Usage: "slurm: at most N tasks of the array at once (--array=...%N; 0: no cap)"},
		&cli.StringFlag{Name: "signal", Value: "B:TERM@120", Usage: "slurm: sbatch --signal: SIGTERM 120 s before the time limit, so a cell saves an interrupted run (\"\": none)"},
		&cli.BoolFlag{Name: "requeue", Usage: "slurm: sbatch --requeue (a preempted task is requeued and resumes its cell)"},
		&cli.StringSliceFlag{Name: "sbatch-arg", Usage: "slurm: another sbatch option `--OPT=VALUE` for the script (repeatable)"},
	}
}

// slurmFlagNames are executorFlags but --executor.
var slurmFlagNames = []string{"partition", "time", "mem", "cpus-per-task", "gres", "account", "qos", "max-parallel", "signal", "requeue", "sbatch-arg"}

// executorOf reads --executor and refuses Slurm settings without slurm.
func executorOf(c *cli.Context) (string, error) {
	e := c.String("executor")
	switch e {
	case executorLocal:
		for _, f := range slurmFlagNames {
			if c.IsSet(f) {
				return "", fmt.Errorf("--%s is a Slurm setting: it needs --executor slurm", f)
			}
		}
	case executorSlurm:
	default:
		return "", fmt.Errorf("--executor %q: want local or slurm", e)
	}
	return e, nil
}

func slurmOptions(c *cli.Context) sweep.SlurmOptions {
	return sweep.SlurmOptions{Partition: c.String("partition"), Time: c.String("time"), Mem: c.String("mem"),
		CPUsPerTask: c.Int("cpus-per-task"), Gres: c.String("gres"), Account: c.String("account"), QOS: c.String("qos"),
		MaxParallel: c.Int("max-parallel"), Signal: c.String("signal"), Requeue: c.Bool("requeue"), Extra: c.StringSlice("sbatch-arg")}
}

// selfPath is this program's absolute path (the jobs run it again).
func selfPath() (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("cannot find this program to run the cells: %w", err)
	}
	return filepath.Abs(self)
}

// taskGlobals are the global flags a job passes on: --out (absolute),
// --device, and --data-dir when the user named it.
func taskGlobals(c *cli.Context) ([]string, error) {
	out, err := filepath.Abs(c.String(flagOut))
	if err != nil {
		return nil, err
	}
	g := []string{"-q", "--out", out, "--device", c.String(flagDevice)}
	if d := dataDirIfSet(c); d != "" {
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, err
		}
		g = append(g, "--data-dir", abs)
	}
	return g, nil
}

// submitSweep puts the sweep's cells that are not done on Slurm (or, with
// --dry-run, prints the batch scripts it would submit).
func submitSweep(c *cli.Context, w io.Writer, g sweep.Grid, cells []sweep.Cell, dir string) error {
	self, err := selfPath()
	if err != nil {
		return err
	}
	globals, err := taskGlobals(c)
	if err != nil {
		return err
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return err
	}
	name := filepath.Base(dir)
	task := append(append([]string{self}, globals...), "sweep", "cell", "--name", name, "--index", "$SLURM_ARRAY_TASK_ID")
	collect := append(append([]string{self}, globals...), "sweep", "--name", name, "--summary-only")
	if b := c.String("baseline"); b != "" {
		collect = append(collect, "--baseline", b)
	}
	opts := sweep.SubmitOptions{Dir: dir, Task: task, Collect: collect, Slurm: slurmOptions(c)}
	if c.Bool("dry-run") {
		plan, err := sweep.PlanSubmission(cells, opts)
		if err != nil {
			return err
		}
		if len(plan.Todo) == 0 {
			fmt.Fprintf(w, "# every cell of %s is done: nothing to submit\n", dir)
			return nil
		}
		fmt.Fprintf(w, "# %d of %d cells to run (%d done, %d diverged, %d running); the job array, sbatch %s:\n",
			len(plan.Todo), len(cells), plan.Done, plan.Diverged, plan.Running, sweep.SlurmDir+"/array-N.sbatch")
		fmt.Fprint(w, plan.Array.Script())
		fmt.Fprintf(w, "# then the collect job, sbatch --dependency=afterany:<array job id> %s:\n", sweep.SlurmDir+"/collect-N.sbatch")
		fmt.Fprint(w, commentOut(plan.CollectJob.Script()))
		return nil
	}
	ctx, stop := signalContext()
	defer stop()
	sub, plan, err := sweep.Submit(ctx, sweep.Slurm{}, g, cells, opts)
	if err != nil {
		return fmt.Errorf("sweep %s: %w", dir, err)
	}
	if sub.ArrayJob == "" {
		fmt.Fprintf(w, "sweep %s: every cell is done (%d done, %d diverged); nothing submitted\n", dir, plan.Done, plan.Diverged)
		return summarizeSweep(w, dir, c.String("baseline"))
	}
	fmt.Fprintf(w, "sweep %s: submitted job array %s (%d cells: --array=%s) and collect job %s (after it: summary.csv)\n",
		dir, sub.ArrayJob, len(sub.Cells), plan.Array.Array, sub.CollectJob)
	if plan.Done+plan.Diverged+plan.Running > 0 {
		fmt.Fprintf(w, "  left out: %d done, %d diverged, %d running\n", plan.Done, plan.Diverged, plan.Running)
	}
	fmt.Fprintf(w, "  follow it: plastic --out %s sweep status %s; logs: %s\n", filepath.Dir(dir), name, filepath.Join(dir, sweep.LogsDir))
	return nil
}

// commentOut prefixes every line with "# " (the collect script of a dry
// run: shown, not to be pasted as the array's script).
func commentOut(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = "# " + l
	}
	return strings.Join(lines, "\n") + "\n"
}

// checkNoSlurmJobs refuses a local run of a sweep whose Slurm jobs are
// still queued or running (their cells would mix with this run's; the
// run folders' locks are the last guard). Without squeue it says so and
// goes on.
func checkNoSlurmJobs(dir string, w io.Writer) error {
	rec, err := sweep.ReadSlurmRecord(dir)
	if err != nil || len(rec.Jobs()) == 0 {
		return err
	}
	if _, err := exec.LookPath("squeue"); err != nil {
		fmt.Fprintf(w, "sweep %s: warning: it was submitted to Slurm and squeue is not here to tell whether its jobs still run\n", dir)
		return nil
	}
	act, err := sweep.ActiveJobs(context.Background(), sweep.Slurm{}, dir)
	if err != nil {
		return err
	}
	if len(act) > 0 {
		return fmt.Errorf("sweep %s has %d jobs in Slurm still queued or running (e.g. %s %s): wait for them or scancel them", dir, len(act), act[0].ID, strings.ToLower(act[0].State))
	}
	return nil
}

func sweepSubcommands() []*cli.Command {
	return []*cli.Command{
		{
			Name:      "status",
			Usage:     "the state of every cell of a sweep: done, diverged, running, interrupted, failed, pending (with Slurm's job states)",
			ArgsUsage: "NAME",
			Description: `Reads the sweep folder --out/NAME: each cell's run folder (a cell whose folder is locked is
running), for a cell without one its last Slurm attempt, and, when the sweep was submitted to
Slurm and squeue answers, the state of its array tasks. Exit status 0 when every cell is a
result (done or diverged), 1 otherwise.

Example:
  plastic sweep status mnist`,
			Action: sweepStatus,
		},
		{
			Name:   "cell",
			Usage:  "train cell --index of the sweep --name (what each task of a Slurm job array runs)",
			Hidden: true,
			Description: `Reads --out/NAME/grid.json and trains its cell --index as the local executor would: skipped
when done or diverged, resumed when interrupted, else trained afresh. The batch script of a
sweep submitted with --executor slurm runs it with --index $SLURM_ARRAY_TASK_ID.

Example:
  plastic --out runs sweep cell --name mnist --index 3`,
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "name", Usage: "the sweep's folder under --out"},
				&cli.IntFlag{Name: "index", Value: -1, Usage: "the cell's index in grid.json ($SLURM_ARRAY_TASK_ID)"},
			},
			Action: sweepCell,
		},
	}
}

func sweepStatus(c *cli.Context) error {
	if c.NArg() != 1 {
		return errors.New("sweep status: give the sweep's NAME (its folder under --out)")
	}
	dir := filepath.Join(c.String(flagOut), c.Args().First())
	var sl *sweep.Slurm
	if rec, err := sweep.ReadSlurmRecord(dir); err == nil && len(rec.Jobs()) > 0 {
		if _, err := exec.LookPath("squeue"); err == nil {
			sl = &sweep.Slurm{}
		}
	}
	st, err := sweep.Status(context.Background(), dir, sl)
	if err != nil && sl != nil {
		// Slurm does not answer: the run folders still tell most.
		fmt.Fprintf(os.Stderr, "plastic: warning: %v (showing the run folders only)\n", err)
		st, err = sweep.Status(context.Background(), dir, nil)
	}
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "INDEX\tCELL\tSTATE\tDETAIL")
	count := map[string]int{}
	finished := 0
	for _, s := range st {
		count[s.State]++
		if s.Finished() {
			finished++
		}
		detail := s.Detail
		if s.Slurm != nil && !strings.Contains(detail, s.Slurm.ID) {
			detail = strings.TrimSpace(detail + " (slurm " + s.Slurm.ID + " " + strings.ToLower(s.Slurm.State) + ")")
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\n", s.Index, s.Cell.ID, s.State, detail)
	}
	w.Flush()
	var parts []string
	for _, k := range []string{sweep.StateDone, sweep.StateDiverged, sweep.StateRunning, sweep.StateInterrupted, sweep.StateFailed, sweep.StatePending} {
		if count[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", count[k], k))
		}
	}
	fmt.Fprintf(c.App.Writer, "%d cells: %s\n", len(st), strings.Join(parts, ", "))
	if finished < len(st) {
		return fmt.Errorf("sweep %s: %d of %d cells are not done", c.Args().First(), len(st)-finished, len(st))
	}
	return nil
}

// sweepCell trains one cell of grid.json, as an array task does: skipped
// when done or diverged, resumed when interrupted, else trained afresh. The
// cell runs as a child process (this program's train command, the same
// command line as the local executor's) that gets the signals this process
// gets (Slurm's --signal goes to the batch step) and dies with it; the
// attempt's exit status is kept in slurm/cells/<cell>.json.
func sweepCell(c *cli.Context) error {
	name, idx := c.String("name"), c.Int("index")
	if name == "" || idx < 0 {
		return errors.New("sweep cell: --name and --index are required")
	}
	dir, err := filepath.Abs(filepath.Join(c.String(flagOut), name))
	if err != nil {
		return err
	}
	grid, err := sweep.ReadGrid(dir)
	if err != nil {
		return fmt.Errorf("sweep cell: %w", err)
	}
	if idx >= len(grid.Cells) {
		return fmt.Errorf("sweep cell: --index %d, but %s has %d cells", idx, filepath.Join(dir, sweep.GridFile), len(grid.Cells))
	}
	cell := grid.Cells[idx].Cell
	w := c.App.Writer
	st, resume, err := sweep.CellState(filepath.Join(dir, cell.ID))
	if err != nil {
		return err
	}
	if st == sweep.StateDone || st == sweep.StateDiverged {
		fmt.Fprintf(w, "cell %s: %s already\n", cell.ID, st)
		return nil
	}
	if !resume {
		if err := sweep.RemoveCell(filepath.Join(dir, cell.ID)); err != nil {
			return fmt.Errorf("cell %s: %w", cell.ID, err)
		}
	}
	self, err := selfPath()
	if err != nil {
		return err
	}
	args := append(cellGlobals(dir, dataDirIfSet(c), c.String(flagDevice)), sweep.TrainArgs(cell, dir, resume)...)
	fmt.Fprintf(w, "cell %s (index %d, resume %v): %s %s\n", cell.ID, idx, resume, self, strings.Join(args, " "))
	code, tail, err := runChild(self, args)
	job := os.Getenv("SLURM_ARRAY_JOB_ID") + "_" + os.Getenv("SLURM_ARRAY_TASK_ID")
	if job == "_" {
		job = "pid " + strconv.Itoa(os.Getpid())
	}
	a := sweep.Attempt{ID: cell.ID, Job: job, End: time.Now().UTC(), Exit: code, Error: tail}
	if werr := sweep.WriteAttempt(dir, a); werr != nil {
		fmt.Fprintf(os.Stderr, "plastic: warning: %v\n", werr)
	}
	if err != nil {
		return err
	}
	if code != 0 {
		return exitError{fmt.Errorf("cell %s: plastic train exited %d", cell.ID, code), code}
	}
	return nil
}

// cellGlobals are the global flags of a cell's train command.
func cellGlobals(dir, dataDir, device string) []string {
	args := []string{"-q", "--out", dir, "--device", device}
	if dataDir != "" {
		args = append(args, "--data-dir", dataDir)
	}
	return args
}

// runChild runs self with args, output to ours, passing SIGINT and SIGTERM
// on; it returns the exit status and the last line the child wrote to
// stderr.
func runChild(self string, args []string) (int, string, error) {
	cmd := exec.Command(self, args...)
	var tail tailWriter
	cmd.Stdout, cmd.Stderr = os.Stdout, io.MultiWriter(os.Stderr, &tail)
	cmd.SysProcAttr = cellProcAttr()
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	runtime.LockOSThread() // the parent-death signal follows this thread
	defer runtime.UnlockOSThread()
	if err := cmd.Start(); err != nil {
		return -1, "", err
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code := ee.ExitCode()
		if code < 0 {
			code = 128 + int(ee.Sys().(syscall.WaitStatus).Signal())
		}
		return code, tail.last(), nil
	}
	if err != nil {
		return -1, "", err
	}
	return 0, "", nil
}

// tailWriter keeps the last non-empty line written to it.
type tailWriter struct{ buf []byte }

func (t *tailWriter) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > 8192 {
		t.buf = t.buf[len(t.buf)-8192:]
	}
	return len(p), nil
}

func (t *tailWriter) last() string {
	lines := bytes.Split(bytes.TrimSpace(t.buf), []byte("\n"))
	s := strings.TrimSpace(string(lines[len(lines)-1]))
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}
