package sweep

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/plasticity-lab/plastic/plasticity"
	"github.com/plasticity-lab/plastic/run"
	"github.com/plasticity-lab/plastic/train"
)

func TestArraySpec(t *testing.T) {
	for _, c := range []struct {
		idx  []int
		max  int
		want string
	}{
		{[]int{0, 1, 2, 3, 4, 5, 6, 7}, 4, "0-7%4"},
		{[]int{5, 1, 3, 6}, 0, "1,3,5-6"},
		{[]int{2}, 0, "2"},
	} {
		if got := ArraySpec(c.idx, c.max); got != c.want {
			t.Errorf("ArraySpec(%v, %d) = %q, want %q", c.idx, c.max, got, c.want)
		}
	}
}

func TestBatchScript(t *testing.T) {
	o := SlurmOptions{Partition: "gpu", Time: "1:00:00", Mem: "8G", CPUsPerTask: 4, Gres: "gpu:1", Account: "lab", QOS: "normal",
		Signal: "B:TERM@120", Requeue: true, Extra: []string{"--constraint=a100"}}
	if err := o.Check(); err != nil {
		t.Fatal(err)
	}
	b := Batch{JobName: "plastic-x", Array: "0-3%2", Output: "/o/logs/slurm-%A_%a.out", Options: o.Lines(true),
		Command: []string{"/bin/plastic", "--out", "/o dir", "sweep", "cell", "--index", "$SLURM_ARRAY_TASK_ID"}}
	want := `#!/bin/bash
#SBATCH --job-name=plastic-x
#SBATCH --array=0-3%2
#SBATCH --output=/o/logs/slurm-%A_%a.out
#SBATCH --open-mode=append
#SBATCH --partition=gpu
#SBATCH --account=lab
#SBATCH --qos=normal
#SBATCH --time=1:00:00
#SBATCH --mem=8G
#SBATCH --cpus-per-task=4
#SBATCH --gres=gpu:1
#SBATCH --signal=B:TERM@120
#SBATCH --requeue
#SBATCH --constraint=a100
exec /bin/plastic --out '/o dir' sweep cell --index "$SLURM_ARRAY_TASK_ID"
`
	if got := b.Script(); got != want {
		t.Errorf("script:\n%s\nwant:\n%s", got, want)
	}
	// The collect job gets no task resources.
	if l := o.Lines(false); slices.ContainsFunc(l, func(s string) bool { return strings.Contains(s, "gres") || strings.Contains(s, "time") }) {
		t.Errorf("collect lines %v", l)
	}
	for _, bad := range []SlurmOptions{{Partition: "a b"}, {Extra: []string{"--array=1"}}, {Extra: []string{"nodash"}}, {MaxParallel: -1}} {
		if bad.Check() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// fakeSlurm is an sbatch that records its arguments and prints job ids,
// and a squeue that prints the file squeue.txt.
func fakeSlurm(t *testing.T) (Slurm, string) {
	dir := t.TempDir()
	sb := filepath.Join(dir, "sbatch")
	os.WriteFile(sb, []byte(`#!/bin/sh
n=$(cat "$0.n" 2>/dev/null || echo 100); n=$((n+1)); echo $n > "$0.n"
echo "$@" >> "$0.log"
echo "$n;cluster"
`), 0o755)
	sq := filepath.Join(dir, "squeue")
	os.WriteFile(sq, []byte(`#!/bin/sh
cat "$(dirname "$0")/squeue.txt" 2>/dev/null
`), 0o755)
	return Slurm{Sbatch: sb, Squeue: sq}, dir
}

func TestSubmitOnlyCellsNotDone(t *testing.T) {
	sl, fake := fakeSlurm(t)
	dir := filepath.Join(t.TempDir(), "sw")
	g := Grid{Optimizers: []string{"sgd", "adam"}, Seeds: []int64{1, 2}, Base: []string{"--epochs=1"}}
	cells, _ := g.Expand()
	// sgd-s1 is done, adam-s1 diverged, sgd-s2 interrupted, adam-s2 absent.
	fabricate := func(id, status, errText string) {
		r, err := run.Create(dir, run.Manifest{ID: id, Command: "train", Flags: map[string]any{}})
		if err != nil {
			t.Fatal(err)
		}
		r.Manifest.Status = status
		r.Manifest.Error = errText
		r.WriteManifest()
		r.Close()
	}
	fabricate("sgd-s1", run.StatusDone, "")
	fabricate("adam-s1", run.StatusFailed, train.ErrDiverged.Error()+": loss NaN")
	fabricate("sgd-s2", run.StatusInterrupted, "interrupted")
	task := []string{"/bin/plastic", "sweep", "cell", "--name", "sw", "--index", "$SLURM_ARRAY_TASK_ID"}
	o := SubmitOptions{Dir: dir, Task: task, Collect: []string{"/bin/plastic", "sweep", "--name", "sw", "--summary-only"}, Slurm: SlurmOptions{MaxParallel: 2}}
	sub, plan, err := Submit(context.Background(), sl, g, cells, o)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(plan.Todo, []int{2, 3}) || plan.Done != 1 || plan.Diverged != 1 || sub.ArrayJob != "101" || sub.CollectJob != "102" {
		t.Fatalf("plan %+v, submission %+v", plan, sub)
	}
	script, _ := os.ReadFile(filepath.Join(dir, sub.Script))
	if !strings.Contains(string(script), "#SBATCH --array=2-3%2\n") {
		t.Errorf("array script:\n%s", script)
	}
	log, _ := os.ReadFile(filepath.Join(fake, "sbatch.log"))
	if !strings.Contains(string(log), "--dependency=afterany:101") {
		t.Errorf("sbatch calls:\n%s", log)
	}
	grid, err := ReadGrid(dir)
	if err != nil || len(grid.Cells) != 4 || grid.Cells[3].ID != "adam-s2" || !slices.Equal(grid.Cells[3].Train, []string{"--seed", "2", "train", "--name", "adam-s2", "--optimizer=adam", "--epochs=1"}) {
		t.Fatalf("grid %+v %v", grid, err)
	}
	// While Slurm still has the jobs, no second submission.
	os.WriteFile(filepath.Join(fake, "squeue.txt"), []byte("101_2|RUNNING|None\n101_3|PENDING|JobArrayTaskLimit\n102|PENDING|Dependency\n"), 0o644)
	if _, _, err := Submit(context.Background(), sl, g, cells, o); err == nil || !strings.Contains(err.Error(), "1 running, 2 pending") {
		t.Fatalf("second submission while queued: %v", err)
	}
	st, err := Status(context.Background(), dir, &sl)
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, s := range st {
		states = append(states, s.State)
	}
	if !slices.Equal(states, []string{"done", "diverged", "running", "pending"}) {
		t.Errorf("states %v", states)
	}
	// After the jobs: the interrupted cell and a failed attempt of the
	// other (no run folder) are what status tells.
	os.WriteFile(filepath.Join(fake, "squeue.txt"), []byte("101_2|CANCELLED|None\n101_3|FAILED|NonZeroExitCode\n102|COMPLETED|None\n"), 0o644)
	WriteAttempt(dir, Attempt{ID: "adam-s2", Job: "101_3", Exit: 1, Error: "plastic: --dataset: data files absent"})
	st, _ = Status(context.Background(), dir, &sl)
	if st[2].State != StateInterrupted || st[3].State != StateFailed || !strings.Contains(st[3].Detail, "data files absent") {
		t.Errorf("after the jobs: %+v / %+v", st[2], st[3])
	}
	sub2, plan2, err := Submit(context.Background(), sl, g, cells, o)
	if err != nil || !slices.Equal(plan2.Todo, []int{2, 3}) || sub2.ArrayJob != "103" {
		t.Fatalf("resubmission: %+v %+v %v", plan2, sub2, err)
	}
	rec, _ := ReadSlurmRecord(dir)
	if len(rec.Submissions) != 2 || !slices.Equal(rec.Jobs(), []string{"101", "102", "103", "104"}) {
		t.Errorf("record %+v", rec)
	}
}

func TestSubmitRefusesWhileLocked(t *testing.T) {
	sl, _ := fakeSlurm(t)
	dir := filepath.Join(t.TempDir(), "sw")
	os.MkdirAll(dir, 0o755)
	l, err := run.LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	g := Grid{Optimizers: []string{"sgd"}, Seeds: []int64{1}}
	cells, _ := g.Expand()
	_, _, err = Submit(context.Background(), sl, g, cells, SubmitOptions{Dir: dir, Task: []string{"x", "$SLURM_ARRAY_TASK_ID"}})
	if !errors.Is(err, run.ErrInUse) {
		t.Fatalf("submission into a locked sweep folder: %v", err)
	}
}

// exp is a toy experiment of two rule units and six result units, run
// through a Units store as the Slurm jobs do.
func exp(u *Units) (results []float64, err error) {
	rs, err := u.Rules("rules a", func() (*plasticity.RuleSet, error) { return plasticity.Builtin("multiplicative-weights") })
	if err != nil {
		return nil, err
	}
	for i := 0; i < 6; i++ {
		var out float64
		key := "unit " + string(rune('a'+i))
		if err := u.Result(key, &out, func() (any, error) { return float64(i)/3 + rs.Eta, nil }); err != nil {
			return nil, err
		}
		results = append(results, out)
	}
	return results, nil
}

func TestUnitsModes(t *testing.T) {
	dir := t.TempDir()
	plan, _ := NewUnits(dir, UnitsPlan, -1)
	if _, err := exp(plan); err != nil {
		t.Fatal(err)
	}
	l := plan.List()
	if len(l.Rules) != 1 || len(l.Results) != 6 {
		t.Fatalf("plan %+v", l)
	}
	plan.WriteList(l)
	// Collect before anything ran: a clear error.
	col, _ := NewUnits(dir, UnitsCollect, -1)
	if _, err := exp(col); err == nil || !strings.Contains(err.Error(), "prepare job") {
		t.Fatalf("collect before prepare: %v", err)
	}
	prep, _ := NewUnits(dir, UnitsPrepare, -1)
	if _, err := exp(prep); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ { // task 5 "fails"
		u, err := NewUnits(dir, UnitsTask, i)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := exp(u); err != nil || !u.Computed() {
			t.Fatalf("task %d: %v", i, err)
		}
	}
	if _, err := exp(col); err == nil || !strings.Contains(err.Error(), `"unit f" has no result`) {
		t.Fatalf("collect with a missing unit: %v", err)
	}
	u, _ := NewUnits(dir, UnitsTask, 5)
	exp(u)
	got, err := exp(col)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range got {
		if want := float64(i)/3 + 1; v != want {
			t.Errorf("unit %d = %v, want %v (exactly)", i, v, want)
		}
	}
	if _, err := NewUnits(dir, UnitsTask, 6); err == nil {
		t.Error("task 6 of 6 accepted")
	}
}
