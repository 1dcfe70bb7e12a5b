package sweep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/plasticity-lab/plastic/run"
)

// SubmitOptions of Submit.
type SubmitOptions struct {
	// Dir is the sweep folder (an absolute path: the jobs run elsewhere).
	Dir string
	// Task is the command of array task i, with its last element
	// "$SLURM_ARRAY_TASK_ID" (e.g. plastic --out OUT sweep cell --name NAME
	// --index $SLURM_ARRAY_TASK_ID).
	Task []string
	// Collect is the command of the collect job, which runs after every
	// task has ended, however it ended (afterany), and writes summary.csv.
	Collect []string
	Slurm   SlurmOptions
}

// Plan is what a submission submits.
type Plan struct {
	// Todo are the cells (indices of cells) not done yet; Done, Diverged
	// and Running count the others (Running: a process still writes there).
	Todo                    []int
	Done, Diverged, Running int
	Array, CollectJob       Batch
}

// jobName is the Slurm job name of a sweep folder.
func jobName(dir string) string { return "plastic-" + filepath.Base(dir) }

// PlanSubmission says which cells a submission would run (reading the run
// folders, writing nothing) and the two batch scripts.
func PlanSubmission(cells []Cell, o SubmitOptions) (Plan, error) {
	if err := o.Slurm.Check(); err != nil {
		return Plan{}, err
	}
	if len(cells) == 0 {
		return Plan{}, errors.New("empty grid: no cells to run")
	}
	if n := len(o.Task); n == 0 || o.Task[n-1] != "$SLURM_ARRAY_TASK_ID" {
		return Plan{}, errors.New("sweep: the task command must end with $SLURM_ARRAY_TASK_ID")
	}
	var p Plan
	for i, c := range cells {
		dir := filepath.Join(o.Dir, c.ID)
		if _, held := run.Held(dir); held {
			p.Running++
			continue
		}
		st, _, err := CellState(dir)
		if err != nil {
			return Plan{}, err
		}
		switch st {
		case StateDone:
			p.Done++
		case StateDiverged:
			p.Diverged++
		default:
			p.Todo = append(p.Todo, i)
		}
	}
	logs := filepath.Join(o.Dir, LogsDir)
	p.Array = Batch{JobName: jobName(o.Dir), Array: ArraySpec(p.Todo, o.Slurm.MaxParallel),
		Output: filepath.Join(logs, "slurm-%A_%a.out"), Options: o.Slurm.lines(true), Command: o.Task}
	p.CollectJob = Batch{JobName: jobName(o.Dir) + "-collect", Output: filepath.Join(logs, "slurm-collect-%j.out"),
		Options: o.Slurm.lines(false), Command: o.Collect}
	return p, nil
}

// Submit puts the cells of the sweep folder o.Dir that are not done yet on
// Slurm: ONE job array (task i trains cell i of grid.json) and a collect
// job after it. Holding the sweep folder's lock, it refuses while jobs of
// an earlier submission are still queued or running; writes sweep.json
// (the grid and cells, as a local run does), grid.json and the batch
// scripts; submits; and records the jobs in slurm.json. With nothing left
// to do it submits nothing (Submission.ArrayJob empty).
func Submit(ctx context.Context, sl Slurm, g Grid, cells []Cell, o SubmitOptions) (Submission, Plan, error) {
	var sub Submission
	if !filepath.IsAbs(o.Dir) {
		return sub, Plan{}, fmt.Errorf("sweep folder %s: want an absolute path", o.Dir)
	}
	if err := o.Slurm.Check(); err != nil {
		return sub, Plan{}, err
	}
	if err := os.MkdirAll(filepath.Join(o.Dir, SlurmDir), 0o755); err != nil {
		return sub, Plan{}, err
	}
	if err := os.MkdirAll(filepath.Join(o.Dir, LogsDir), 0o755); err != nil {
		return sub, Plan{}, err
	}
	lock, err := run.LockDir(o.Dir)
	if err != nil {
		return sub, Plan{}, fmt.Errorf("sweep folder: %w", err)
	}
	defer lock.Unlock()
	active, err := ActiveJobs(ctx, sl, o.Dir)
	if err != nil {
		return sub, Plan{}, fmt.Errorf("sweep %s: cannot ask Slurm about its earlier jobs: %w", o.Dir, err)
	}
	if len(active) > 0 {
		return sub, Plan{}, fmt.Errorf("sweep %s still has jobs in Slurm (%s): wait for them (plastic sweep status %s) or scancel them, then submit again",
			o.Dir, describeStates(active), filepath.Base(o.Dir))
	}
	if err := writeSpec(o.Dir, g, cells); err != nil {
		return sub, Plan{}, err
	}
	plan, err := PlanSubmission(cells, o)
	if err != nil {
		return sub, Plan{}, err
	}
	grid := GridRecord{}
	for i, c := range cells {
		grid.Cells = append(grid.Cells, GridCell{Index: i, Cell: c, Train: TrainArgs(c, o.Dir, false)})
	}
	b, _ := json.MarshalIndent(grid, "", "  ")
	if err := run.WriteFileAtomic(filepath.Join(o.Dir, GridFile), append(b, '\n')); err != nil {
		return sub, Plan{}, err
	}
	if len(plan.Todo) == 0 {
		return sub, plan, nil
	}
	rec, err := ReadSlurmRecord(o.Dir)
	if err != nil {
		return sub, plan, err
	}
	k := len(rec.Submissions) + 1
	sub = Submission{Time: time.Now().UTC(), Cells: plan.Todo, Options: o.Slurm,
		Script:  filepath.Join(SlurmDir, fmt.Sprintf("array-%d.sbatch", k)),
		Collect: filepath.Join(SlurmDir, fmt.Sprintf("collect-%d.sbatch", k))}
	for _, f := range []struct {
		path string
		b    Batch
	}{{sub.Script, plan.Array}, {sub.Collect, plan.CollectJob}} {
		if err := run.WriteFileAtomic(filepath.Join(o.Dir, f.path), []byte(f.b.Script())); err != nil {
			return sub, plan, err
		}
	}
	if sub.ArrayJob, err = sl.Submit(ctx, filepath.Join(o.Dir, sub.Script)); err != nil {
		return sub, plan, err
	}
	var cerr error
	sub.CollectJob, cerr = sl.Submit(ctx, filepath.Join(o.Dir, sub.Collect), "--dependency=afterany:"+sub.ArrayJob)
	rec.Submissions = append(rec.Submissions, sub)
	b, _ = json.MarshalIndent(rec, "", "  ")
	if err := run.WriteFileAtomic(filepath.Join(o.Dir, SlurmFile), append(b, '\n')); err != nil {
		return sub, plan, fmt.Errorf("job array %s submitted, but %s not written: %w", sub.ArrayJob, SlurmFile, err)
	}
	if cerr != nil {
		return sub, plan, fmt.Errorf("job array %s submitted, the collect job not (run plastic sweep --summary-only after it): %w", sub.ArrayJob, cerr)
	}
	return sub, plan, nil
}

func describeStates(ts []TaskState) string {
	n := map[string]int{}
	var order []string
	for _, t := range ts {
		if n[t.State] == 0 {
			order = append(order, t.State)
		}
		n[t.State]++
	}
	var parts []string
	for _, s := range order {
		parts = append(parts, fmt.Sprintf("%d %s", n[s], strings.ToLower(s)))
	}
	return strings.Join(parts, ", ")
}

// Cell states of Status, beside StateDone and StateDiverged.
const (
	StateRunning     = "running"     // a process writes its run folder now
	StateInterrupted = "interrupted" // stopped (Ctrl-C, SIGTERM, killed): resumed by the next run
	StatePending     = "pending"     // not started yet (or queued in Slurm)
)

// CellStatus is a cell's state in `plastic sweep status`.
type CellStatus struct {
	Index  int
	Cell   Cell
	State  string // done, diverged, running, interrupted, failed, pending
	Detail string
	Slurm  *TaskState // the cell's array task, when Slurm knows it
}

// Finished reports whether the cell is a result (done or diverged).
func (s CellStatus) Finished() bool { return s.State == StateDone || s.State == StateDiverged }

// SweepCells lists the cells of a sweep folder: those of grid.json (the
// grid last submitted to Slurm) when it exists, else those of sweep.json.
func SweepCells(dir string) ([]Cell, error) {
	if g, err := ReadGrid(dir); err == nil {
		out := make([]Cell, len(g.Cells))
		for i, c := range g.Cells {
			out[i] = c.Cell
		}
		return out, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(dir, SpecFile))
	if err != nil {
		return nil, fmt.Errorf("sweep folder %s: %w", dir, err)
	}
	var sp spec
	if err := json.Unmarshal(b, &sp); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, SpecFile), err)
	}
	return sp.Cells, nil
}

// Status reads the state of every cell of the sweep folder dir from its
// run folder (and, for a cell without one, its last Slurm attempt) and,
// when sl is not nil, what Slurm says of the tasks of slurm.json.
func Status(ctx context.Context, dir string, sl *Slurm) ([]CellStatus, error) {
	cells, err := SweepCells(dir)
	if err != nil {
		return nil, err
	}
	// The cell index of each array task of the record, latest first wins.
	var tasks map[string]TaskState
	taskOf := map[int]string{}
	if sl != nil {
		rec, err := ReadSlurmRecord(dir)
		if err != nil {
			return nil, err
		}
		for _, s := range rec.Submissions {
			for _, i := range s.Cells {
				taskOf[i] = s.ArrayJob + "_" + strconv.Itoa(i)
			}
		}
		if len(rec.Jobs()) > 0 {
			ts, err := sl.States(ctx, rec.Jobs()...)
			if err != nil {
				return nil, err
			}
			tasks = map[string]TaskState{}
			for _, t := range ts {
				tasks[t.ID] = t
			}
		}
	}
	out := make([]CellStatus, len(cells))
	for i, c := range cells {
		cs := CellStatus{Index: i, Cell: c}
		rd := filepath.Join(dir, c.ID)
		if h, held := run.Held(rd); held {
			cs.State, cs.Detail = StateRunning, h.String()
		} else if r, err := run.Open(rd); err == nil {
			m := r.Manifest
			switch st, _, _ := CellState(rd); {
			case st != "":
				cs.State = st
			case m.Status == run.StatusFailed:
				cs.State, cs.Detail = StateFailed, m.Error
			default:
				cs.State = StateInterrupted
				if m.Status == run.StatusRunning {
					cs.Detail = "killed (its process is gone)"
				}
			}
			if ms, _ := r.Metrics(); len(ms) > 0 && cs.Detail == "" {
				cs.Detail = fmt.Sprintf("%d metrics lines", len(ms))
			}
		} else if a, ok := ReadAttempt(dir, c.ID); ok && a.Exit != 0 {
			cs.State, cs.Detail = StateFailed, fmt.Sprintf("task %s exited %d: %s", a.Job, a.Exit, a.Error)
		} else {
			cs.State = StatePending
		}
		if id, ok := taskOf[i]; ok {
			if t, ok := tasks[id]; ok {
				t := t
				cs.Slurm = &t
				if t.Active() && !cs.Finished() && cs.State != StateRunning {
					// Queued, or just starting: Slurm knows first.
					cs.State = StatePending
					if t.State == "RUNNING" {
						cs.State = StateRunning
					}
					cs.Detail = strings.TrimSpace("slurm task " + t.ID + " " + strings.ToLower(t.State) + " " + t.Reason)
				}
			}
		}
		out[i] = cs
	}
	return out, nil
}
