package main

// Integration tests against a real Slurm: run them with one started by
// scripts/slurm-local.sh (.ci/run does):
//
//	eval "$(scripts/slurm-local.sh start)"
//	PLASTIC_SLURM_REQUIRED=1 go test ./cmd/plastic -run Slurm
//	scripts/slurm-local.sh stop
//
// Without SLURM_CONF they skip (and fail with PLASTIC_SLURM_REQUIRED=1).

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/run"
	"github.com/plasticity-lab/plastic/sweep"
)

// needSlurm skips the test unless a Slurm answers here.
func needSlurm(t *testing.T) {
	t.Helper()
	why := ""
	if os.Getenv("SLURM_CONF") == "" {
		why = "SLURM_CONF is not set"
	} else if out, err := exec.Command("sinfo", "-h", "-o", "%T").CombinedOutput(); err != nil {
		why = fmt.Sprintf("sinfo: %v: %s", err, out)
	}
	if why == "" {
		return
	}
	if os.Getenv("PLASTIC_SLURM_REQUIRED") == "1" {
		t.Fatalf("no Slurm (%s) but PLASTIC_SLURM_REQUIRED=1", why)
	}
	t.Skipf("no Slurm here (%s): eval \"$(scripts/slurm-local.sh start)\" starts one", why)
}

// waitJobs waits until no job of the record in dir is queued or running.
func waitJobs(t *testing.T, dir string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		act, err := sweep.ActiveJobs(context.Background(), sweep.Slurm{}, dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(act) == 0 {
			return
		}
		if time.Now().After(deadline) {
			out, _ := exec.Command("squeue").CombinedOutput()
			t.Fatalf("jobs of %s still queued or running after %v: %v\n%s", dir, limit, act, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// slurmSweep runs `plastic sweep` in this process (its tasks run this test
// binary as plastic: sbatch passes the environment on).
func slurmSweep(t *testing.T, out string, args ...string) (string, error) {
	t.Helper()
	t.Setenv(envChild, "1")
	return runSweepCLI(t, append([]string{"-q", "--out", out}, args...)...)
}

// The dry run prints a batch script that sbatch accepts.
func TestSlurmDryRunScript(t *testing.T) {
	needSlurm(t)
	out := t.TempDir()
	msg, err := slurmSweep(t, out, "sweep", "--name", "d", "--dataset", "synthetic", "--epochs", "1", "--optimizers", "sgd,adam",
		"--seeds", "2", "--executor", "slurm", "--dry-run", "--max-parallel", "2", "--time", "0:10:00", "--mem", "1G", "--requeue",
		"--sbatch-arg=--comment=plastic-test")
	if err != nil {
		t.Fatal(err, msg)
	}
	script := regexp.MustCompile(`(?ms)^#!/bin/bash\n.*?^exec [^\n]*\n`).FindString(msg)
	if !strings.Contains(script, "#SBATCH --array=0-3%2") || !strings.Contains(script, "sweep cell --name d --index \"$SLURM_ARRAY_TASK_ID\"") {
		t.Fatalf("dry run:\n%s", msg)
	}
	file := filepath.Join(t.TempDir(), "array.sbatch")
	os.WriteFile(file, []byte(script), 0o644)
	if b, err := exec.Command("sbatch", "--test-only", file).CombinedOutput(); err != nil {
		t.Fatalf("sbatch --test-only: %v\n%s\n%s", err, b, script)
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("the dry run wrote %s", ents[0].Name())
	}
}

// A 2x2x2 MNIST sweep on Slurm gives the summary.csv of the local run.
func TestSlurmSweepEqualsLocal(t *testing.T) {
	needSlurm(t)
	if _, ok := data.FindMNIST("datasets"); !ok {
		t.Skip("no MNIST files")
	}
	grid := []string{"sweep", "--name", "m", "--dataset", "mnist", "--epochs", "1", "--batch-size", "64", "--optimizers", "sgd,adam",
		"--lrs", "0.01,0.05", "--seeds", "2", "--baseline", "sgd"}
	tail := []string{"--", "--n-train", "256", "--n-test", "256"}
	local, cluster := t.TempDir(), t.TempDir()
	if msg, err := slurmSweep(t, local, append(append(grid, "--jobs", "2"), tail...)...); err != nil {
		t.Fatal(err, msg)
	}
	msg, err := slurmSweep(t, cluster, append(append(grid, "--executor", "slurm"), tail...)...)
	if err != nil || !strings.Contains(msg, "submitted job array") {
		t.Fatal(err, msg)
	}
	dir := filepath.Join(cluster, "m")
	waitJobs(t, dir, 2*time.Minute)
	if msg, err := runSweepCLI(t, "--out", cluster, "sweep", "status", "m"); err != nil || !strings.Contains(msg, "8 cells: 8 done") {
		t.Fatalf("status: %v\n%s", err, msg)
	}
	a, err := os.ReadFile(filepath.Join(local, "m", sweep.SummaryCSV))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, sweep.SummaryCSV))
	if err != nil {
		t.Fatalf("the collect job wrote no summary: %v", err)
	}
	if string(a) != string(b) {
		t.Fatalf("summary.csv differs:\nlocal\n%s\nslurm\n%s", a, b)
	}
	if ml, ms := metricsOf(t, filepath.Join(local, "m")), metricsOf(t, dir); !reflect.DeepEqual(ml, ms) {
		t.Errorf("metrics differ:\n%v\n%v", ml, ms)
	}
	// Submitting again submits nothing.
	if msg, err := slurmSweep(t, cluster, append(append(grid, "--executor", "slurm"), tail...)...); err != nil || !strings.Contains(msg, "nothing submitted") {
		t.Fatalf("resubmission of a finished sweep: %v\n%s", err, msg)
	}
}

// A task cancelled mid-run (scancel: SIGTERM, then SIGKILL) is resumed by
// the next submission: every cell ends done, one metrics line per epoch.
func TestSlurmScancelAndResubmit(t *testing.T) {
	needSlurm(t)
	out := t.TempDir()
	args := []string{"sweep", "--name", "k", "--dataset", "synthetic", "--epochs", "100", "--batch-size", "64", "--optimizers", "adam",
		"--seeds", "2", "--executor", "slurm", "--", "--n-train", "64", "--n-test", "32"}
	msg, err := slurmSweep(t, out, args...)
	if err != nil {
		t.Fatal(err, msg)
	}
	dir := filepath.Join(out, "k")
	rec, _ := sweep.ReadSlurmRecord(dir)
	cell := filepath.Join(dir, "adam-s1")
	waitFor(t, "the first epoch of cell 0", func() bool { _, held := run.Held(cell); return held && hasMetrics(cell)() })
	if b, err := exec.Command("scancel", rec.Submissions[0].ArrayJob+"_0").CombinedOutput(); err != nil {
		t.Fatalf("scancel: %v %s", err, b)
	}
	waitJobs(t, dir, 2*time.Minute)
	msg, err = runSweepCLI(t, "--out", out, "sweep", "status", "k")
	if err == nil || !regexp.MustCompile(`adam-s1\s+interrupted`).MatchString(msg) {
		t.Fatalf("status after scancel: %v\n%s", err, msg)
	}
	if m := manifestOf(t, cell); len(readMetrics(t, cell)) >= 100 || m.Status != run.StatusInterrupted {
		t.Fatalf("the cancelled cell: %s with %d lines", m.Status, len(readMetrics(t, cell)))
	}
	msg, err = slurmSweep(t, out, args...)
	if err != nil || !strings.Contains(msg, "(1 cells: --array=0)") {
		t.Fatalf("resubmission: %v\n%s", err, msg)
	}
	waitJobs(t, dir, 2*time.Minute)
	if msg, err := runSweepCLI(t, "--out", out, "sweep", "status", "k"); err != nil || !strings.Contains(msg, "2 cells: 2 done") {
		t.Fatalf("status: %v\n%s", err, msg)
	}
	eps := epochsOf(t, cell)
	for i, e := range eps {
		if e != i+1 {
			t.Fatalf("metrics epochs of the resumed cell: %v", eps)
		}
	}
	if len(eps) != 100 || len(manifestOf(t, cell).Resumed) != 1 {
		t.Fatalf("%d lines, resumed %v", len(eps), manifestOf(t, cell).Resumed)
	}
}

// Failing cells are reported by status, and the collect job still runs.
func TestSlurmFailingCells(t *testing.T) {
	needSlurm(t)
	out := t.TempDir()
	empty := t.TempDir()
	msg, err := slurmSweep(t, out, "--data-dir", empty, "sweep", "--name", "f", "--dataset", "fashion-mnist", "--epochs", "1",
		"--optimizers", "sgd,adam", "--executor", "slurm")
	if err != nil {
		t.Fatal(err, msg)
	}
	dir := filepath.Join(out, "f")
	waitJobs(t, dir, time.Minute)
	msg, err = runSweepCLI(t, "--out", out, "sweep", "status", "f")
	if err == nil || !strings.Contains(msg, "2 cells: 2 failed") || !strings.Contains(msg, "fashion-mnist") {
		t.Fatalf("status: %v\n%s", err, msg)
	}
	rec, _ := sweep.ReadSlurmRecord(dir)
	st, err := sweep.Slurm{}.States(context.Background(), rec.Submissions[0].CollectJob)
	if err != nil || len(st) != 1 || st[0].Active() {
		t.Fatalf("collect job: %+v %v", st, err)
	}
}

// paper fig3 and table2 on Slurm write the CSV tables of a local run.
func TestSlurmPaperExperimentsEqualLocal(t *testing.T) {
	needSlurm(t)
	t.Setenv(envChild, "1")
	out := t.TempDir()
	cli := func(args ...string) string {
		t.Helper()
		msg, err := runSweepCLI(t, append([]string{"-q", "--out", out}, args...)...)
		if err != nil {
			t.Fatal(err, msg)
		}
		return msg
	}
	fig3 := []string{"paper", "fig3", "--data", "halfspace,relu1", "--repeats", "1", "--jobs", "2", "--n-train", "200",
		"--small-nodes", "10", "--small-cap", "5", "--large-nodes", "20", "--large-cap", "10",
		"--output-learn-n", "200", "--output-learn-nodes", "10", "--output-learn-cap", "5", "--output-learn-epochs", "1",
		"--rnn-learn-n", "200", "--rnn-learn-nodes", "10", "--rnn-learn-cap", "5", "--rnn-learn-epochs", "1", "--rnn-learn-hidden", "3"}
	cli(append(fig3, "--name", "f3")...)
	msg := cli(append(fig3, "--name", "f3s", "--executor", "slurm")...)
	if !strings.Contains(msg, "(10 units)") { // 8 re-trainings, 2 rule checks
		t.Fatalf("fig3 submission:\n%s", msg)
	}
	tables := map[string][]string{"f3": {"fig3.csv", "fig3_runs.csv", "fig3_rules_T3.json", "fig3_rulecheck.csv"}}
	if _, ok := data.FindMNIST("datasets"); ok {
		t2 := []string{"paper", "table2", "--data", "mnist", "--seeds", "2", "--n-train", "200", "--nodes", "20", "--cap", "10",
			"--t3-learn-n", "200", "--t3-learn-nodes", "10", "--t3-learn-cap", "5", "--t3-learn-epochs", "1", "--t3-learn-hidden", "3"}
		cli(append(t2, "--name", "t2")...)
		cli(append(t2, "--name", "t2s", "--executor", "slurm")...)
		tables["t2"] = []string{"table2.csv", "table2_runs.csv"}
	}
	for name, files := range tables {
		waitJobs(t, filepath.Join(out, name+"s.slurm"), 3*time.Minute)
		if m := manifestOf(t, filepath.Join(out, name+"s")); m.Status != run.StatusDone {
			t.Fatalf("%s on Slurm: %s %s", name, m.Status, m.Error)
		}
		for _, f := range files {
			a, _ := os.ReadFile(filepath.Join(out, name, f))
			b, err := os.ReadFile(filepath.Join(out, name+"s", f))
			if err != nil || len(a) == 0 || string(a) != string(b) {
				t.Errorf("%s/%s differs on Slurm (%v):\n%s\n%s", name, f, err, a, b)
			}
		}
	}
}

// `paper fig3 --executor slurm --dry-run` plans the units and prints the
// three batch scripts with the Slurm options, submitting and leaving
// nothing (no Slurm needed); --dry-run without Slurm is an error.
func TestPaperSlurmDryRun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "runs")
	fig3 := []string{"-q", "--out", out, "paper", "fig3", "--data", "halfspace,relu1", "--repeats", "1", "--jobs", "2", "--n-train", "200",
		"--small-nodes", "10", "--small-cap", "5", "--large-nodes", "20", "--large-cap", "10",
		"--output-learn-n", "200", "--output-learn-nodes", "10", "--output-learn-cap", "5", "--output-learn-epochs", "1",
		"--rnn-learn-n", "200", "--rnn-learn-nodes", "10", "--rnn-learn-cap", "5", "--rnn-learn-epochs", "1", "--rnn-learn-hidden", "3",
		"--name", "f3"}
	msg, err := runSweepCLI(t, append(fig3, "--executor", "slurm", "--dry-run", "--time", "0:10:00", "--max-parallel", "3")...)
	if err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	for _, want := range []string{"10 units; nothing submitted", "#SBATCH --time=0:10:00", "--units-mode=prepare",
		"# #SBATCH --array=0-9%3", "--units-mode=task", "--units-mode=collect", "--dependency=afterok:<prepare job id>"} {
		if !strings.Contains(msg, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, msg)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		ents, _ := os.ReadDir(out)
		t.Errorf("the dry run left %s (%v, %d entries)", out, err, len(ents))
	}
	if _, err := runSweepCLI(t, append(fig3, "--dry-run")...); err == nil || !strings.Contains(err.Error(), "--executor slurm") {
		t.Errorf("--dry-run without Slurm: %v", err)
	}
}
