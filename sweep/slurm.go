package sweep

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/plasticity-lab/plastic/internal/param"
	"github.com/plasticity-lab/plastic/run"
)

// Files of a sweep run on Slurm, inside the sweep folder.
const (
	// GridFile lists every cell of the grid last submitted with the exact
	// command that trains it; array task i trains cell i.
	GridFile = "grid.json"
	// SlurmFile records every submission: job ids, cells, scripts.
	SlurmFile = "slurm.json"
	// SlurmDir holds the batch scripts and each cell's last attempt.
	SlurmDir = "slurm"
)

// SlurmOptions are the sbatch settings of a submission. Empty fields are
// left to the cluster's defaults.
type SlurmOptions struct {
	Partition   string `json:"partition,omitempty"`
	Time        string `json:"time,omitempty"` // --time of each array task (e.g. 2:00:00)
	Mem         string `json:"mem,omitempty"`
	CPUsPerTask int    `json:"cpus_per_task,omitempty"`
	Gres        string `json:"gres,omitempty"` // e.g. gpu:1 for --device cuda cells
	Account     string `json:"account,omitempty"`
	QOS         string `json:"qos,omitempty"`
	// MaxParallel caps the array tasks running at once (the %N of
	// --array; 0: no cap).
	MaxParallel int `json:"max_parallel,omitempty"`
	// Signal is sbatch's --signal: a warning before the time limit (e.g.
	// B:TERM@120: SIGTERM to the task 120 s before it is killed, so the
	// cell saves an interrupted run that the next submission resumes).
	Signal string `json:"signal,omitempty"`
	// Requeue lets Slurm requeue a preempted or failed-node task (the
	// requeued task resumes the cell from its checkpoint).
	Requeue bool `json:"requeue,omitempty"`
	// Extra are more sbatch options, each "--option=value".
	Extra []string `json:"extra,omitempty"`
}

// Check refuses options sbatch would misread in a script.
func (o SlurmOptions) Check() error {
	for _, s := range []struct{ name, v string }{{"partition", o.Partition}, {"time", o.Time}, {"mem", o.Mem},
		{"gres", o.Gres}, {"account", o.Account}, {"qos", o.QOS}, {"signal", o.Signal}} {
		if strings.ContainsAny(s.v, " \t\n\"'") {
			return param.Errorf(s.name, "%q: no blanks or quotes", s.v)
		}
	}
	if o.CPUsPerTask < 0 {
		return param.Errorf("cpus per task", "%d: want >= 0", o.CPUsPerTask)
	}
	if o.MaxParallel < 0 {
		return param.Errorf("max parallel", "%d: want >= 0", o.MaxParallel)
	}
	for _, e := range o.Extra {
		if !strings.HasPrefix(e, "--") || strings.ContainsAny(e, "\n\"'") {
			return param.Errorf("sbatch arg", "%q: want one sbatch option, --option or --option=value", e)
		}
		switch n, _, _ := strings.Cut(strings.TrimPrefix(e, "--"), "="); n {
		case "array", "dependency", "output", "error", "job-name", "parsable", "wrap":
			return param.Errorf("sbatch arg", "%q: the sweep sets --%s itself", e, n)
		}
	}
	return nil
}

// Lines are the #SBATCH lines of o for a job that computes (task true: an
// array task, an experiment's prepare job) or a collect job (partition,
// account, QOS and the extra options only).
func (o SlurmOptions) Lines(task bool) []string { return o.lines(task) }

func (o SlurmOptions) lines(array bool) []string {
	var out []string
	add := func(flag, v string) {
		if v != "" {
			out = append(out, "#SBATCH --"+flag+"="+v)
		}
	}
	add("partition", o.Partition)
	add("account", o.Account)
	add("qos", o.QOS)
	if array {
		add("time", o.Time)
		add("mem", o.Mem)
		if o.CPUsPerTask > 0 {
			add("cpus-per-task", strconv.Itoa(o.CPUsPerTask))
		}
		add("gres", o.Gres)
		add("signal", o.Signal)
		if o.Requeue {
			out = append(out, "#SBATCH --requeue")
		}
	}
	for _, e := range o.Extra {
		out = append(out, "#SBATCH "+e)
	}
	return out
}

// ArraySpec is sbatch's --array value for the task indices: ranges of
// consecutive indices, comma-separated, then %max when max > 0
// (0-7%4, 1,3,5-6).
func ArraySpec(idx []int, max int) string {
	idx = slices.Clone(idx)
	slices.Sort(idx)
	var parts []string
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, strconv.Itoa(idx[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", idx[i], idx[j]))
		}
		i = j + 1
	}
	s := strings.Join(parts, ",")
	if max > 0 {
		s += "%" + strconv.Itoa(max)
	}
	return s
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,@%+", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func shellLine(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}

// Batch is one batch script: an array of tasks, or the collect job.
type Batch struct {
	JobName string
	Array   string // --array (empty: not an array)
	Output  string // --output (%A, %a, %j as sbatch expands them)
	Options []string
	// Command runs in the job; its argv[len-1] may be "$SLURM_ARRAY_TASK_ID",
	// written unquoted so the shell expands it.
	Command []string
}

// Script is the batch script's text: #SBATCH lines, then exec of the
// command (so Slurm's signals reach it, not a shell in between).
func (b Batch) Script() string {
	var s strings.Builder
	s.WriteString("#!/bin/bash\n")
	fmt.Fprintf(&s, "#SBATCH --job-name=%s\n", b.JobName)
	if b.Array != "" {
		fmt.Fprintf(&s, "#SBATCH --array=%s\n", b.Array)
	}
	fmt.Fprintf(&s, "#SBATCH --output=%s\n", b.Output)
	s.WriteString("#SBATCH --open-mode=append\n")
	for _, l := range b.Options {
		s.WriteString(l + "\n")
	}
	cmd := b.Command
	tail := ""
	if n := len(cmd); n > 0 && cmd[n-1] == "$SLURM_ARRAY_TASK_ID" {
		cmd, tail = cmd[:n-1], ` "$SLURM_ARRAY_TASK_ID"`
	}
	fmt.Fprintf(&s, "exec %s%s\n", shellLine(cmd), tail)
	return s.String()
}

// Slurm runs Slurm's commands (sbatch, squeue).
type Slurm struct {
	// Sbatch and Squeue are the commands (default "sbatch", "squeue").
	Sbatch, Squeue string
}

func (s Slurm) bin(name, def string) string {
	if name != "" {
		return name
	}
	return def
}

// Submit runs sbatch --parsable on the script file with more options
// (before the script) and returns the job id.
func (s Slurm) Submit(ctx context.Context, script string, opts ...string) (string, error) {
	args := append([]string{"--parsable"}, opts...)
	args = append(args, script)
	cmd := exec.CommandContext(ctx, s.bin(s.Sbatch, "sbatch"), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("sbatch %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	id, _, _ := strings.Cut(strings.TrimSpace(out.String()), ";") // id;cluster
	if _, err := strconv.Atoi(id); err != nil {
		return "", fmt.Errorf("sbatch printed %q, not a job id", out.String())
	}
	return id, nil
}

// TaskState is what Slurm says of a job or array task.
type TaskState struct {
	ID     string `json:"id"`    // 123 or 123_4
	State  string `json:"state"` // PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, ...
	Reason string `json:"reason,omitempty"`
}

// Active reports whether the task is queued or running (not ended).
func (t TaskState) Active() bool {
	switch t.State {
	case "PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED",
		"RESIZING", "SUSPENDED", "STOPPED", "SIGNALING", "STAGE_OUT", "RESV_DEL_HOLD":
		return true
	}
	return false
}

// States asks squeue for the jobs (each array task separately). Jobs
// Slurm no longer knows (ended long ago) are left out.
func (s Slurm) States(ctx context.Context, jobs ...string) ([]TaskState, error) {
	if len(jobs) == 0 {
		return nil, nil
	}
	out, err := s.squeue(ctx, strings.Join(jobs, ","))
	if err != nil && len(jobs) > 1 && strings.Contains(err.Error(), "Invalid job id") {
		// One of them is gone: ask one by one.
		out, err = nil, nil
		for _, j := range jobs {
			o, e := s.squeue(ctx, j)
			if e != nil && strings.Contains(e.Error(), "Invalid job id") {
				continue
			}
			if e != nil {
				return nil, e
			}
			out = append(out, o...)
		}
	} else if err != nil && strings.Contains(err.Error(), "Invalid job id") {
		return nil, nil
	}
	return out, err
}

func (s Slurm) squeue(ctx context.Context, jobs string) ([]TaskState, error) {
	cmd := exec.CommandContext(ctx, s.bin(s.Squeue, "squeue"), "-h", "-r", "-t", "all", "-j", jobs, "-o", "%i|%T|%r")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("squeue -j %s: %v: %s", jobs, err, strings.TrimSpace(errb.String()))
	}
	var ts []TaskState
	for _, ln := range strings.Split(out.String(), "\n") {
		f := strings.Split(strings.TrimSpace(ln), "|")
		if len(f) < 2 || f[0] == "" {
			continue
		}
		t := TaskState{ID: f[0], State: f[1]}
		if len(f) > 2 && f[2] != "None" {
			t.Reason = f[2]
		}
		ts = append(ts, t)
	}
	return ts, nil
}

// Submission is one submission of a sweep to Slurm.
type Submission struct {
	Time time.Time `json:"time"`
	// PrepareJob runs before the array (an experiment's rule learning).
	PrepareJob string       `json:"prepare_job,omitempty"`
	ArrayJob   string       `json:"array_job"`
	CollectJob string       `json:"collect_job"`
	Cells      []int        `json:"cells"` // array task ids = indices in grid.json
	Script     string       `json:"script"`
	Collect    string       `json:"collect_script"`
	Options    SlurmOptions `json:"options"`
}

// SlurmRecord is slurm.json.
type SlurmRecord struct {
	Submissions []Submission `json:"submissions"`
}

// ReadSlurmRecord reads dir/slurm.json (empty when absent).
func ReadSlurmRecord(dir string) (SlurmRecord, error) {
	var r SlurmRecord
	b, err := os.ReadFile(filepath.Join(dir, SlurmFile))
	if errors.Is(err, os.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("%s: %w", filepath.Join(dir, SlurmFile), err)
	}
	return r, nil
}

// Jobs lists every job id of the record.
func (r SlurmRecord) Jobs() []string {
	var out []string
	for _, s := range r.Submissions {
		for _, j := range []string{s.PrepareJob, s.ArrayJob, s.CollectJob} {
			if j != "" {
				out = append(out, j)
			}
		}
	}
	return out
}

// ActiveJobs are the record's jobs that Slurm still has queued or running.
func ActiveJobs(ctx context.Context, sl Slurm, dir string) ([]TaskState, error) {
	rec, err := ReadSlurmRecord(dir)
	if err != nil || len(rec.Jobs()) == 0 {
		return nil, err
	}
	ts, err := sl.States(ctx, rec.Jobs()...)
	if err != nil {
		return nil, err
	}
	var act []TaskState
	for _, t := range ts {
		if t.Active() {
			act = append(act, t)
		}
	}
	return act, nil
}

// GridCell is one cell of grid.json: its place (the array task id), the
// cell, and the exact `plastic train` arguments that train it (after the
// global flags the task adds: -q, --out SWEEP, --device, --data-dir).
type GridCell struct {
	Index int `json:"index"`
	Cell
	Train []string `json:"train"`
}

// GridRecord is grid.json.
type GridRecord struct {
	Cells []GridCell `json:"cells"`
}

// TrainArgs are the arguments after the global flags that train cell c
// into sweepDir/c.ID: a fresh run, or with resume the run already there.
func TrainArgs(c Cell, sweepDir string, resume bool) []string {
	if resume {
		return []string{"train", "--resume", filepath.Join(sweepDir, c.ID)}
	}
	return append([]string{"--seed", strconv.FormatInt(c.Seed, 10), "train", "--name", c.ID}, c.Args...)
}

// ReadGrid reads dir/grid.json.
func ReadGrid(dir string) (GridRecord, error) {
	var g GridRecord
	b, err := os.ReadFile(filepath.Join(dir, GridFile))
	if err != nil {
		return g, err
	}
	if err := json.Unmarshal(b, &g); err != nil {
		return g, fmt.Errorf("%s: %w", filepath.Join(dir, GridFile), err)
	}
	return g, nil
}

// Attempt is a cell's last run as an array task
// (slurm/cells/<id>.json), written when it ends however it ends but a
// SIGKILL: with no run folder to say so (a cell that failed before it
// began, e.g. on missing data), it is what tells that the cell failed.
type Attempt struct {
	ID    string    `json:"id"`
	Job   string    `json:"job"` // array job _ task
	End   time.Time `json:"end"`
	Exit  int       `json:"exit"`
	Error string    `json:"error,omitempty"`
}

func attemptPath(dir, id string) string { return filepath.Join(dir, SlurmDir, "cells", id+".json") }

// WriteAttempt records a cell's attempt.
func WriteAttempt(dir string, a Attempt) error {
	p := attemptPath(dir, a.ID)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(a, "", "  ")
	return run.WriteFileAtomic(p, append(b, '\n'))
}

// ReadAttempt reads a cell's last attempt (false when none).
func ReadAttempt(dir, id string) (Attempt, bool) {
	var a Attempt
	b, err := os.ReadFile(attemptPath(dir, id))
	if err != nil || json.Unmarshal(b, &a) != nil {
		return a, false
	}
	return a, true
}
