package main

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plasticity-lab/plastic/baseline"
	"github.com/plasticity-lab/plastic/cuda"
)

func needEmulator(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("clang++"); err != nil && os.Getenv("PLASTIC_REQUIRE_DEVICE") != "1" {
		t.Skip("no clang++ for the emulator")
	}
}

// runCPUThenDevice runs the command args twice into out: as run "cpu" with
// --device cpu, then as run "dev" with --device cuda on the emulator,
// which it leaves switched on; the dev run's manifest must record it.
func runCPUThenDevice(t *testing.T, out string, args ...string) {
	t.Helper()
	t.Setenv(cuda.EnvEmulator, "")
	if msg, err := runIn(t, out, append([]string{"--device", "cpu"}, append(args, "--name", "cpu")...)...); err != nil {
		t.Fatalf("--device cpu: %v\n%s", err, msg)
	}
	t.Setenv(cuda.EnvEmulator, "1")
	if msg, err := runIn(t, out, append([]string{"--device", "cuda"}, append(args, "--name", "dev")...)...); err != nil {
		t.Fatalf("--device cuda: %v\n%s", err, msg)
	}
	if d := manifestDevice(t, filepath.Join(out, "dev")); d != string(cuda.Emulator) {
		t.Fatalf("manifest device %q, want %q", d, cuda.Emulator)
	}
}

func summaryOf(t *testing.T, dir string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// `plastic --device cuda paper fig3` re-trains on the device (the
// emulator standing in for a GPU): the same fig3_runs.csv as the CPU run,
// cuda-emulator in the manifest and what ran where in the summary.
func TestPaperFig3OnDeviceMatchesCPU(t *testing.T) {
	needEmulator(t)
	out := t.TempDir()
	args := []string{"--data-dir", t.TempDir(), "paper", "fig3", "--data", "halfspace", "--repeats", "3", "--n-train", "200",
		"--small-nodes", "10", "--small-cap", "5", "--large-nodes", "20", "--large-cap", "10",
		"--output-learn-n", "200", "--output-learn-nodes", "10", "--output-learn-cap", "5", "--output-learn-epochs", "1",
		"--rnn-learn-n", "200", "--rnn-learn-nodes", "10", "--rnn-learn-cap", "5", "--rnn-learn-epochs", "1", "--rnn-learn-hidden", "3"}
	runCPUThenDevice(t, out, args...)
	if w, _ := summaryOf(t, filepath.Join(out, "dev"))["device_work"].(string); !strings.Contains(w, "re-trainings") {
		t.Fatalf("summary device_work %q", w)
	}
	for _, f := range []string{"fig3_runs.csv", "fig3_rulecheck.csv"} {
		a, err := os.ReadFile(filepath.Join(out, "cpu", f))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(out, "dev", f))
		if err != nil {
			t.Fatal(err)
		}
		if string(a) != string(b) {
			t.Fatalf("%s: cpu\n%s\ndevice\n%s", f, a, b)
		}
	}
}

// `plastic --device cuda attack --rules` trains the network under attack
// on the device: the CPU run's accuracies and network; the attack itself
// runs on the CPU, as the summary says. Without --rules nothing runs on
// the device: --device cuda is refused before anything is written, and
// auto records the CPU. Paper experiments run as Slurm units refuse it
// too.
func TestAttackVictimOnDevice(t *testing.T) {
	needEmulator(t)
	out := t.TempDir()
	args := []string{"attack", "--rules", "perceptron", "--data", "mnist", "--n-train", "300", "--n-test", "100",
		"--nodes", "30", "--cap", "15", "--passes", "2", "--eps-grid", "0,2", "--steps", "3"}
	runCPUThenDevice(t, out, args...)
	sc, sd := summaryOf(t, filepath.Join(out, "cpu")), summaryOf(t, filepath.Join(out, "dev"))
	for _, k := range []string{"train_acc", "test_acc"} {
		if sc[k] != sd[k] || sc[k] == nil {
			t.Errorf("%s: cpu %v, device %v", k, sc[k], sd[k])
		}
	}
	if w, _ := sd["device_work"].(string); !strings.Contains(w, "attack on the CPU") {
		t.Errorf("summary device_work %q", w)
	}
	nc, _, err := baseline.LoadRNN(filepath.Join(out, "cpu", networkFile))
	if err != nil {
		t.Fatal(err)
	}
	nd, _, err := baseline.LoadRNN(filepath.Join(out, "dev", networkFile))
	if err != nil {
		t.Fatal(err)
	}
	for i := range nc.U {
		if math.Abs(nc.U[i]-nd.U[i]) > 1e-5*math.Max(1, math.Abs(nc.U[i])) {
			t.Fatalf("saved network U[%d]: cpu %v, device %v", i, nc.U[i], nd.U[i])
		}
	}

	// An attack on a saved network has no device work.
	dir := t.TempDir()
	_, err = runIn(t, dir, "--device", "cuda", "attack", "--run", filepath.Join(out, "cpu"), "--data", "mnist", "--n-test", "50",
		"--eps-grid", "0,2", "--steps", "2", "--name", "x")
	if err == nil || !strings.Contains(err.Error(), "plastic attack:") || !strings.Contains(err.Error(), "--device cuda is refused") {
		t.Fatalf("--device cuda attack --run: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("refused attack wrote %d entries", len(ents))
	}
	if msg, err := runIn(t, dir, "--device", "auto", "attack", "--run", filepath.Join(out, "cpu"), "--data", "mnist", "--n-test", "50",
		"--eps-grid", "0,2", "--steps", "2", "--name", "x"); err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	if d := manifestDevice(t, filepath.Join(dir, "x")); d != "cpu" {
		t.Fatalf("attack --run under auto: manifest device %q, want cpu", d)
	}

	// Slurm units compute on the CPU.
	_, err = runIn(t, t.TempDir(), "--device", "cuda", "paper", "table2", "--executor", "slurm", "--seeds", "1")
	if err == nil || !strings.Contains(err.Error(), "Slurm") || !strings.Contains(err.Error(), "--device cuda is refused") {
		t.Fatalf("--device cuda paper table2 --executor slurm: %v", err)
	}
}
