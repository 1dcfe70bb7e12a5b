package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plasticity-lab/plastic/baseline"
	"github.com/plasticity-lab/plastic/cuda"
	"github.com/plasticity-lab/plastic/plasticity"
	"github.com/plasticity-lab/plastic/run"
)

func runDev(t *testing.T, args ...string) error {
	t.Helper()
	app := newApp()
	app.Writer = &bytes.Buffer{}
	return app.Run(append([]string{"plastic", "-q"}, args...))
}

func manifestDevice(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, run.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	var m run.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m.Device
}

// A command without a device path refuses --device cuda with an error
// naming it, before it writes anything, in any build.
func TestDeviceCudaRefusedByCPUCommands(t *testing.T) {
	t.Setenv(cuda.EnvEmulator, "1") // a device is available: the refusal is about the command
	for _, args := range [][]string{{"data", "list"}, {"paper", "evolve"}, {"gd", "train"}, {"demo"}} {
		if deviceCommands[strings.Join(args, " ")] {
			continue
		}
		dir := t.TempDir()
		err := runDev(t, append([]string{"--out", dir, "--device", "cuda"}, args...)...)
		if err == nil || !strings.Contains(err.Error(), "plastic "+strings.Join(args, " ")+":") || !strings.Contains(err.Error(), "--device cuda is refused") {
			t.Fatalf("%v: got %v", args, err)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Fatalf("%v: refused command wrote %d entries", args, len(ents))
		}
	}
}

// --device auto that finds a device records the CPU for a command that
// computes on the CPU only: the manifest never claims a device for CPU work.
func TestDeviceAutoRecordsCPUForCPUCommands(t *testing.T) {
	t.Setenv(cuda.EnvEmulator, "1")
	dir := t.TempDir()
	if err := runDev(t, "--out", dir, "--device", "auto", "paper", "evolve", "--name", "e", "--generations", "3", "--population", "10", "--genes", "10", "--eps", "0.1", "--start", "-0.4"); err != nil {
		t.Fatal(err)
	}
	if d := manifestDevice(t, filepath.Join(dir, "e")); d != "cpu" {
		t.Fatalf("manifest device %q, want cpu", d)
	}
}

// `plastic --device cuda train` takes the device path end to end (the
// emulator stands in for the GPU): the manifest records the emulator, and
// the run's metrics are the CPU run's (same batches, masks and weights).
func TestTrainOnDeviceMatchesCPU(t *testing.T) {
	needEmulator(t)
	// The MLP for two epochs; the CNN (32x32 images: slow on the emulator)
	// for one step. ResNet-18 takes the same path (models.New's name is
	// the only difference); a narrow one is checked in classify.
	for _, tc := range []struct {
		model, nTrain, epochs string
	}{{"mlp", "24", "2"}, {"cnn", "8", "1"}} {
		model := tc.model
		out := t.TempDir()
		args := []string{"train", "--model", model, "--dataset", "synthetic", "--n-train", tc.nTrain, "--n-test", "6", "--batch-size", "8",
			"--epochs", tc.epochs, "--optimizer", "neuroplastic", "--lr", "0.05"}
		runCPUThenDevice(t, out, args...)
		if d := manifestDevice(t, filepath.Join(out, "cpu")); d != "cpu" {
			t.Fatalf("%s: manifest device %q", model, d)
		}
		mc, md := readMetrics(t, filepath.Join(out, "cpu")), readMetrics(t, filepath.Join(out, "dev"))
		if len(mc) != len(md) || len(mc) == 0 {
			t.Fatalf("%s: %d and %d metrics lines", model, len(mc), len(md))
		}
		for e := range mc {
			for _, k := range []string{"train_loss", "test_loss"} {
				if math.Abs(mc[e][k]-md[e][k]) > 1e-3*math.Abs(mc[e][k]) {
					t.Errorf("%s epoch %d %s: cpu %v, device %v", model, e+1, k, mc[e][k], md[e][k])
				}
			}
			for _, k := range []string{"train_accuracy", "test_accuracy"} {
				if mc[e][k] != md[e][k] {
					t.Errorf("%s epoch %d %s: cpu %v, device %v", model, e+1, k, mc[e][k], md[e][k])
				}
			}
		}
	}
}

// `plastic --device cuda rule train` trains its --repeats networks in one
// device computation (the emulator stands in for the GPU) and reports the
// CPU run's accuracies, per repeat, and the same first network.
func TestRuleTrainOnDeviceMatchesCPU(t *testing.T) {
	needEmulator(t)
	out := t.TempDir()
	args := []string{"rule", "train", "--rules", "perceptron", "--data", "halfspace", "--nodes", "40", "--cap", "20", "--rounds", "2",
		"--n-train", "150", "--n-test", "50", "--passes", "2", "--repeats", "3", "--shuffle", "--every", "50", "--train-eval"}
	runCPUThenDevice(t, out, args...)
	sc, sd := summaryOf(t, filepath.Join(out, "cpu")), summaryOf(t, filepath.Join(out, "dev"))
	for _, k := range []string{"online_acc_runs", "train_acc_runs", "test_acc_runs", "curve"} {
		a, _ := json.Marshal(sc[k])
		b, _ := json.Marshal(sd[k])
		if string(a) != string(b) || len(a) < 10 {
			t.Errorf("%s: cpu %s, device %s", k, a, b)
		}
	}
	if len(readMetrics(t, filepath.Join(out, "dev"))) != 6 {
		t.Errorf("want a metrics line per repeat and pass")
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
}

// `plastic --device cuda rule learn` runs meta-learning's steps on the
// device (the emulator stands in for the GPU): a small-NN RNN rule and a
// table output rule at T = 2, batches of 100. The manifest records the
// emulator, summary.json says what ran on the device, and the epochs'
// losses and the learned rules are the CPU run's up to float32 (the device
// gradients are float32; Adam follows them for 6 steps); --device auto
// with a device takes the same path and records it.
func TestRuleLearnOnDeviceMatchesCPU(t *testing.T) {
	needEmulator(t)
	out := t.TempDir()
	args := []string{"rule", "learn", "--data", "halfspace", "--nodes", "30", "--cap", "15", "--rounds", "2", "--learn", "rnn,output",
		"--param", "nn", "--hidden", "5", "--n-train", "300", "--n-test", "50", "--epochs", "2", "--batch", "100", "--eval-n", "100"}
	runCPUThenDevice(t, out, args...)
	if err := runDev(t, append([]string{"--out", out, "--device", "auto"}, append(args, "--name", "auto", "--epochs", "1")...)...); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"cpu": "cpu", "dev": string(cuda.Emulator), "auto": string(cuda.Emulator)} {
		if d := manifestDevice(t, filepath.Join(out, name)); d != want {
			t.Fatalf("%s: manifest device %q, want %q", name, d, want)
		}
	}
	for name, want := range map[string]bool{"cpu": false, "dev": true, "auto": true} {
		if w, _ := summaryOf(t, filepath.Join(out, name))["device_work"].(string); (w != "") != want || (want && !strings.Contains(w, "rule gradient")) {
			t.Errorf("%s: device_work %q", name, w)
		}
	}
	mc, md := readMetrics(t, filepath.Join(out, "cpu")), readMetrics(t, filepath.Join(out, "dev"))
	if len(mc) != 2 || len(md) != 2 {
		t.Fatalf("%d and %d metrics lines, want 2", len(mc), len(md))
	}
	for e := range mc {
		if math.Abs(mc[e]["loss"]-md[e]["loss"]) > 1e-4*(1+math.Abs(mc[e]["loss"])) {
			t.Errorf("epoch %d loss: cpu %v, device %v", e+1, mc[e]["loss"], md[e]["loss"])
		}
	}
	rc, err := plasticity.LoadRules(filepath.Join(out, "cpu", "rules.json"))
	if err != nil {
		t.Fatal(err)
	}
	rd, err := plasticity.LoadRules(filepath.Join(out, "dev", "rules.json"))
	if err != nil {
		t.Fatal(err)
	}
	moved := 0.0
	for i, r := range rc.Rules() {
		tc, td := r.Table(), rd.Rules()[i].Table()
		for k := range tc {
			if math.Abs(tc[k]-td[k]) > 1e-3*math.Max(1, math.Abs(tc[k])) {
				t.Errorf("%s rule entry %d: cpu %v, device %v", r.Target(), k, tc[k], td[k])
			}
			moved = math.Max(moved, math.Abs(tc[k]))
		}
	}
	if moved == 0 {
		t.Fatal("the learned rules are all zero")
	}
}

// Multiplicative rules train in float64 on the CPU: `rule train` and
// `attack --rules` refuse --device cuda for them, saying why, and --device
// auto that finds a device records (and uses) the CPU.
func TestMultiplicativeRulesStayOnCPU(t *testing.T) {
	t.Setenv(cuda.EnvEmulator, "1")
	small := []string{"--rules", "multiplicative-weights", "--multiplicative", "--data", "mnist", "--nodes", "30", "--cap", "15",
		"--n-train", "100", "--n-test", "20"}
	for _, cmd := range [][]string{{"rule", "train"}, {"attack", "--eps-grid", "0,0.1", "--steps", "2"}} {
		dir := t.TempDir()
		err := runDev(t, append(append([]string{"--out", dir, "--device", "cuda"}, cmd...), small...)...)
		if err == nil || !strings.Contains(err.Error(), "--device cuda is refused") || !strings.Contains(err.Error(), "float64") {
			t.Fatalf("%v --device cuda: %v", cmd, err)
		}
		if err := runDev(t, append(append([]string{"--out", dir, "--device", "auto"}, cmd...), append(small, "--name", "auto")...)...); err != nil {
			t.Fatalf("%v --device auto: %v", cmd, err)
		}
		if d := manifestDevice(t, filepath.Join(dir, "auto")); d != "cpu" {
			t.Fatalf("%v --device auto: manifest device %q, want cpu", cmd, d)
		}
	}
}
