package sweep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/plasticity-lab/plastic/classify"
	"github.com/plasticity-lab/plastic/internal/param"
	"github.com/plasticity-lab/plastic/report"
	"github.com/plasticity-lab/plastic/run"
	"github.com/plasticity-lab/plastic/train"
)

// File and folder names inside a sweep folder.
const (
	SpecFile   = report.LabelsFile // sweep.json
	SummaryCSV = "summary.csv"
	LogsDir    = "logs"
)

// Runner trains cell c into the run folder filepath.Join(dir, c.ID), which
// it creates; with resume it continues the interrupted run already there.
// The run's output goes to log.
type Runner func(ctx context.Context, c Cell, dir string, resume bool, log io.Writer) error

// Options of Execute.
type Options struct {
	// Dir is the sweep folder.
	Dir string
	// Jobs is the number of cells trained at once (>= 1).
	Jobs int
	// Run trains one cell.
	Run Runner
	// Progress, if not nil, gets a line per cell.
	Progress io.Writer
}

// Cell states, as Outcome.State.
const (
	StateDone     = "done"     // finished (now or before)
	StateDiverged = "diverged" // training diverged: a result, not retried
	StateFailed   = "failed"   // failed for another reason (see Err)
	StateNotRun   = "not run"  // left out after a failure or an interrupt
)

// Outcome is what became of one cell.
type Outcome struct {
	Cell  Cell
	State string
	// Skipped is true when the cell's run folder was already finished.
	Skipped bool
	Err     error
}

// spec is sweep.json.
type spec struct {
	Grid  Grid   `json:"grid"`
	Cells []Cell `json:"cells"`
}

// Execute trains the cells that are not finished yet in opt.Dir, at most
// opt.Jobs at a time, holding the sweep folder's lock (run.LockDir) all
// along: a second Execute of the same folder fails naming this process. A cell whose run folder says done, or failed because
// training diverged, is skipped; an interrupted one with a checkpoint is
// resumed; any other leftover folder is removed and the cell trained again.
// A cell that fails for another reason (missing data, bad flags) stops the
// sweep from starting further cells, as the same cause would fail them all.
// sweep.json records the grid and every cell; a cell of the same folder name
// but other flags than recorded there is an error (use another sweep
// folder). The error joins every failure; diverged cells are no error.
func Execute(ctx context.Context, g Grid, cells []Cell, opt Options) ([]Outcome, error) {
	if opt.Jobs < 1 {
		return nil, param.Errorf("jobs", "%d: want >= 1", opt.Jobs)
	}
	if opt.Run == nil {
		return nil, errors.New("sweep: no runner")
	}
	if len(cells) == 0 {
		return nil, errors.New("empty grid: no cells to run")
	}
	if err := os.MkdirAll(filepath.Join(opt.Dir, LogsDir), 0o755); err != nil {
		return nil, err
	}
	// One sweep per folder at a time: a second one would delete or resume
	// the first one's cells under its feet.
	lock, err := run.LockDir(opt.Dir)
	if err != nil {
		return nil, fmt.Errorf("sweep folder: %w", err)
	}
	defer lock.Unlock()
	if err := writeSpec(opt.Dir, g, cells); err != nil {
		return nil, err
	}
	progress := opt.Progress
	if progress == nil {
		progress = io.Discard
	}
	var pmu sync.Mutex
	say := func(format string, a ...any) {
		pmu.Lock()
		defer pmu.Unlock()
		fmt.Fprintf(progress, format+"\n", a...)
	}

	out := make([]Outcome, len(cells))
	type job struct {
		i      int
		resume bool
	}
	var todo []job
	for i, c := range cells {
		out[i] = Outcome{Cell: c, State: StateNotRun}
		st, resume, err := CellState(filepath.Join(opt.Dir, c.ID))
		if err != nil {
			return nil, err
		}
		switch st {
		case StateDone, StateDiverged:
			out[i].State, out[i].Skipped = st, true
			say("[%d/%d] %s: %s already, skipped", i+1, len(cells), c.ID, st)
		default:
			todo = append(todo, job{i, resume})
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan job)
	var wg sync.WaitGroup
	for w := 0; w < min(opt.Jobs, max(len(todo), 1)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				c := cells[j.i]
				t0 := time.Now()
				st, err := runCell(ctx, opt, c, j.resume)
				out[j.i].State, out[j.i].Err = st, err
				switch st {
				case StateDone:
					acc := "?"
					if r, lerr := report.Load(filepath.Join(opt.Dir, c.ID), c.Arm); lerr == nil {
						acc = fmt.Sprintf("%.2f%%", 100*r.FinalAccuracy())
					}
					say("[%d/%d] %s: done, final test accuracy %s (%.1f s)", j.i+1, len(cells), c.ID, acc, time.Since(t0).Seconds())
				case StateDiverged:
					say("[%d/%d] %s: diverged (kept as a result)", j.i+1, len(cells), c.ID)
				case StateNotRun:
					say("[%d/%d] %s: stopped (continued by the next run of the sweep)", j.i+1, len(cells), c.ID)
				default:
					say("[%d/%d] %s: %s: %v (log %s)", j.i+1, len(cells), c.ID, st, err, logPath(opt.Dir, c))
					cancel() // the same cause would most likely fail the rest
				}
			}
		}()
	}
feed:
	for _, j := range todo {
		select {
		case jobs <- j:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()

	var errs []error
	for _, o := range out {
		if o.Err != nil {
			errs = append(errs, fmt.Errorf("cell %s: %w", o.Cell.ID, o.Err))
		}
	}
	if len(errs) == 0 {
		for _, o := range out {
			if o.State == StateNotRun {
				errs = append(errs, fmt.Errorf("cell %s not run: %w", o.Cell.ID, context.Cause(ctx)))
				break
			}
		}
	}
	return out, errors.Join(errs...)
}

func logPath(dir string, c Cell) string { return filepath.Join(dir, LogsDir, c.ID+".log") }

// runCell trains (or resumes) one cell and classifies the result from its
// run folder.
func runCell(ctx context.Context, opt Options, c Cell, resume bool) (string, error) {
	if ctx.Err() != nil {
		return StateNotRun, nil
	}
	dir := filepath.Join(opt.Dir, c.ID)
	if !resume {
		if err := RemoveCell(dir); err != nil {
			return StateFailed, err
		}
	}
	logf, err := os.OpenFile(logPath(opt.Dir, c), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return StateFailed, err
	}
	fmt.Fprintf(logf, "# %s cell %s (resume %v): %s\n", time.Now().UTC().Format(time.RFC3339), c.ID, resume, strings.Join(c.Args, " "))
	rerr := opt.Run(ctx, c, opt.Dir, resume, logf)
	logf.Close()
	st, _, serr := CellState(dir)
	if serr != nil {
		return StateFailed, serr
	}
	switch {
	case st == StateDone && rerr == nil:
		return StateDone, nil
	case st == StateDiverged:
		return StateDiverged, nil
	case ctx.Err() != nil:
		return StateNotRun, nil // interrupted: resumed by the next Execute
	case rerr != nil:
		return StateFailed, rerr
	}
	return StateFailed, fmt.Errorf("the run folder %s says %q after the run", dir, st)
}

// RemoveCell removes a cell's leftover run folder, unless a process still
// writes there (a cell of a sweep that was killed): that is refused.
func RemoveCell(dir string) error {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	l, err := run.LockDir(dir)
	if err != nil {
		return err
	}
	defer l.Unlock()
	return os.RemoveAll(dir)
}

// CellState reads a cell's run folder: done, diverged, or "" (to be
// trained) with resume true when an interrupted run can continue from its
// checkpoint.
func CellState(dir string) (state string, resume bool, err error) {
	if _, err := os.Stat(filepath.Join(dir, run.ManifestFile)); errors.Is(err, os.ErrNotExist) {
		return "", false, nil
	}
	r, err := run.Open(dir)
	if err != nil {
		return "", false, err
	}
	switch m := r.Manifest; {
	case m.Status == run.StatusDone:
		return StateDone, false, nil
	case m.Status == run.StatusFailed && strings.Contains(m.Error, train.ErrDiverged.Error()):
		return StateDiverged, false, nil
	case m.Status == run.StatusInterrupted || m.Status == run.StatusRunning:
		_, cerr := os.Stat(r.Path(classify.CheckpointName))
		return "", cerr == nil && r.LastMetrics()["epoch"] > 0, nil
	}
	return "", false, nil
}

// writeSpec writes sweep.json with the grid and the cells, merged with the
// cells already recorded there; a recorded cell of the same id but other
// flags is an error.
func writeSpec(dir string, g Grid, cells []Cell) error {
	path := filepath.Join(dir, SpecFile)
	var old spec
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &old); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	merged := old.Cells
	idx := map[string]int{}
	for i, c := range merged {
		idx[c.ID] = i
	}
	for _, c := range cells {
		if i, ok := idx[c.ID]; ok {
			if o := merged[i]; !slices.Equal(o.Args, c.Args) || o.Seed != c.Seed || o.Arm != c.Arm {
				return fmt.Errorf("sweep folder %s: cell %s was recorded with flags %q, now %q; use another sweep folder for other settings",
					dir, c.ID, strings.Join(o.Args, " "), strings.Join(c.Args, " "))
			}
			continue
		}
		idx[c.ID] = len(merged)
		merged = append(merged, c)
	}
	b, err := json.MarshalIndent(spec{Grid: g, Cells: merged}, "", "  ")
	if err != nil {
		return err
	}
	return run.WriteFileAtomic(path, append(b, '\n'))
}
