package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plasticity-lab/plastic/baseline"
	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/plasticity"
)

func runRule(t *testing.T, args ...string) (string, error) {
	t.Helper()
	app := newApp()
	var out bytes.Buffer
	app.Writer = &out
	app.ErrWriter = &out
	err := app.Run(append([]string{"plastic", "-q", "--out", t.TempDir()}, args...))
	return out.String(), err
}

func TestRuleCommands(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "learned.json")
	out, err := runRule(t, "rule", "learn", "--data", "halfspace", "--n-train", "400", "--n-test", "200",
		"--nodes", "30", "--cap", "15", "--learn", "output", "--epochs", "2", "--name", "l")
	if err != nil {
		t.Fatalf("rule learn: %v\n%s", err, out)
	}
	if !strings.Contains(out, "output rule") || !strings.Contains(out, "rules.json") {
		t.Fatalf("rule learn output:\n%s", out)
	}
	// learn writes rules.json in the run folder; copy it through optimal's --save path check below.
	out, err = runRule(t, "rule", "optimal", "--data", "halfspace", "--n-train", "300", "--n-test", "100",
		"--nodes", "30", "--cap", "15", "--save", rules)
	if err != nil {
		t.Fatalf("rule optimal: %v\n%s", err, out)
	}
	if !strings.Contains(out, "MSE") {
		t.Fatalf("rule optimal output:\n%s", out)
	}
	rs, err := plasticity.LoadRules(rules)
	if err != nil || rs.Output == nil {
		t.Fatalf("saved rule file: %v", err)
	}
	out, err = runRule(t, "rule", "train", "--rules", rules, "--data", "halfspace", "--n-train", "300", "--n-test", "100",
		"--nodes", "30", "--cap", "15", "--every", "100")
	if err != nil || !strings.Contains(out, "test accuracy") || !strings.Contains(out, "examples 100:") {
		t.Fatalf("rule train: %v\n%s", err, out)
	}
	out, err = runRule(t, "rule", "show", "perceptron")
	if err != nil || !strings.Contains(out, "-1.0000") {
		t.Fatalf("rule show: %v\n%s", err, out)
	}
}

func TestRuleCommandErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"format":"plastic-rules/1","T":1,"update":"additive","rules":[{"target":"output","kind":"table","shape":[2,2],"values":[1,2,3]}]}`), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"rule", "train", "--rules", "perceptron", "--nodes", "10", "--cap", "20", "--n-train", "50"}, "cap k = 20"},
		{[]string{"rule", "train", "--rules", "perceptron", "--p", "1.5", "--n-train", "50"}, "edge probability p = 1.5"},
		{[]string{"rule", "train", "--rules", "nosuchrule"}, "not a built-in"},
		{[]string{"rule", "train", "--rules", bad}, "2x2 = 4 values"},
		{[]string{"rule", "train", "--rules", "perceptron", "--data", "nosuchdata"}, "unknown data set"},
		{[]string{"rule", "learn", "--rounds", "0", "--n-train", "50"}, "rounds T = 0"},
		{[]string{"rule", "learn", "--learn", "hidden", "--n-train", "50"}, "unknown rule target"},
		{[]string{"rule", "learn", "--loss", "hinge", "--n-train", "50"}, "--loss"},
		{[]string{"rule", "optimal", "--rounds", "3", "--n-train", "50"}, "T = 1"},
	} {
		out, err := runRule(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want it to mention %q\n%s", c.args, err, c.want, out)
		}
	}
}

func TestRuleTrainSavesNetwork(t *testing.T) {
	out := t.TempDir()
	app := newApp()
	var buf strings.Builder
	app.Writer, app.ErrWriter = &buf, &buf
	if err := app.Run([]string{"plastic", "-q", "--out", out, "rule", "train", "--rules", "perceptron", "--dataset", "halfspace",
		"--n-train", "300", "--n-test", "100", "--nodes", "20", "--cap", "10", "--name", "rt"}); err != nil {
		t.Fatalf("rule train: %v\n%s", err, buf.String())
	}
	net, info, err := baseline.LoadRNN(filepath.Join(out, "rt", networkFile))
	if err != nil {
		t.Fatal(err)
	}
	if net.Nodes != 20 || net.Inputs != 10 || info.Trainer != "rules:perceptron" || info.Run != "rt" {
		t.Fatalf("saved network %d nodes, %d inputs, info %+v", net.Nodes, net.Inputs, info)
	}
}

func TestRuleTrainFileSubsetIsRandomAndRecorded(t *testing.T) {
	if _, ok := data.FindMNIST(""); !ok {
		t.Skip("MNIST files not found")
	}
	out := t.TempDir()
	app := newApp()
	var buf strings.Builder
	app.Writer, app.ErrWriter = &buf, &buf
	if err := app.Run([]string{"plastic", "-q", "--out", out, "rule", "train", "--rules", "perceptron",
		"--dataset", "mnist", "--n-train", "500", "--n-test", "100", "--nodes", "20", "--cap", "10", "--name", "sub"}); err != nil {
		t.Fatalf("rule train: %v\n%s", err, buf.String())
	}
	b, err := os.ReadFile(filepath.Join(out, "sub", "train-indices.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx []int
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatal(err)
	}
	if len(idx) != 500 {
		t.Fatalf("%d indices, want 500", len(idx))
	}
	if idx[len(idx)-1] < 500 {
		t.Fatalf("indices %v... look like the first 500 images, not a random subset of 60,000", idx[:5])
	}
}

// TestFiringRecorded: `rule optimal --firing nonzero` records the firing
// definition (and the scheme) in the rule file's provenance; `rule train`
// with the default top-k firing notes the mismatch and writes "firing":
// "topk" into the saved network file; --both-columns needs --every-example.
func TestFiringRecorded(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "opt.json")
	out, err := runRule(t, "rule", "optimal", "--data", "halfspace", "--n-train", "300", "--n-test", "100",
		"--nodes", "30", "--cap", "15", "--firing", "nonzero", "--save", rules)
	if err != nil {
		t.Fatalf("rule optimal: %v\n%s", err, out)
	}
	rs, err := plasticity.LoadRules(rules)
	if err != nil || rs.Provenance == nil || rs.Provenance.Firing != "nonzero" || !strings.Contains(rs.Provenance.Scheme, "every example, all rows") {
		t.Fatalf("provenance %+v (%v): want firing nonzero and the update-all scheme", rs.Provenance, err)
	}
	runs := t.TempDir()
	app := newApp()
	var buf bytes.Buffer
	app.Writer, app.ErrWriter = &buf, &buf
	err = app.Run([]string{"plastic", "-q", "--out", runs, "rule", "train", "--rules", rules, "--data", "halfspace",
		"--n-train", "200", "--n-test", "100", "--nodes", "30", "--cap", "15", "--passes", "1", "--name", "tr"})
	if err != nil {
		t.Fatalf("rule train: %v\n%s", err, buf.String())
	}
	if !strings.Contains(buf.String(), "learned with nonzero firing but are used with topk firing") {
		t.Fatalf("no firing note:\n%s", buf.String())
	}
	net, _, err := baseline.LoadRNN(filepath.Join(runs, "tr", networkFile))
	if err != nil || net.Firing.String() != "topk" {
		t.Fatalf("saved network: %v, firing %v", err, net)
	}
	out, err = runRule(t, "rule", "train", "--rules", "perceptron", "--data", "halfspace", "--n-train", "100",
		"--nodes", "30", "--cap", "15", "--both-columns")
	if err == nil || !strings.Contains(err.Error(), "--every-example") {
		t.Fatalf("--both-columns alone: %v\n%s", err, out)
	}
}

// TestRuleTrainAccuracies checks what `rule train` reports: the last
// pass's online accuracy and the test accuracy, plus the accuracy on the
// whole training set after training with --train-eval only; training is
// the same either way.
func TestRuleTrainAccuracies(t *testing.T) {
	out := t.TempDir()
	args := []string{"rule", "train", "--rules", "perceptron", "--data", "halfspace", "--nodes", "40", "--cap", "20",
		"--n-train", "200", "--n-test", "100", "--passes", "2", "--repeats", "2", "--shuffle"}
	plain, err := runIn(t, out, append(args, "--name", "plain")...)
	if err != nil {
		t.Fatalf("%v\n%s", err, plain)
	}
	full, err := runIn(t, out, append(args, "--name", "full", "--train-eval")...)
	if err != nil {
		t.Fatalf("%v\n%s", err, full)
	}
	if !strings.Contains(plain, "run 2: online accuracy ") || strings.Contains(plain, "train accuracy") ||
		!strings.Contains(plain, "mean of 2 runs: online accuracy ") {
		t.Errorf("without --train-eval:\n%s", plain)
	}
	if !strings.Contains(full, "train accuracy") {
		t.Errorf("with --train-eval:\n%s", full)
	}
	sp, sf := summaryOf(t, filepath.Join(out, "plain")), summaryOf(t, filepath.Join(out, "full"))
	if _, ok := sp["train_acc"]; ok {
		t.Errorf("summary without --train-eval has train_acc %v", sp["train_acc"])
	}
	for _, k := range []string{"online_acc", "online_acc_runs", "test_acc", "test_acc_runs"} {
		a, _ := json.Marshal(sp[k])
		b, _ := json.Marshal(sf[k])
		if sp[k] == nil || string(a) != string(b) {
			t.Errorf("%s: %s without --train-eval, %s with it", k, a, b)
		}
	}
	online, _ := sf["online_acc"].(float64)
	trainAcc, _ := sf["train_acc"].(float64)
	if runs, _ := sf["train_acc_runs"].([]any); len(runs) != 2 || !(trainAcc > 0.5) || trainAcc == online {
		t.Errorf("with --train-eval: train_acc %v (runs %v), online_acc %v", sf["train_acc"], sf["train_acc_runs"], online)
	}
}

// TestRuleTrainWarnsSilentRounds: the perceptron on a 2-round network
// cannot learn (plasticity.SilentRounds); rule train says so, and not at
// one round.
func TestRuleTrainWarnsSilentRounds(t *testing.T) {
	for _, rounds := range []string{"1", "2"} {
		out, err := runRule(t, "rule", "train", "--rules", "perceptron", "--data", "halfspace", "--nodes", "30", "--cap", "15",
			"--n-train", "100", "--n-test", "50", "--rounds", rounds)
		if err != nil {
			t.Fatalf("--rounds %s: %v\n%s", rounds, err, out)
		}
		if warned := strings.Contains(out, "warning: --rounds=2: with T=2 rounds and no RNN rule"); warned != (rounds == "2") {
			t.Errorf("--rounds %s: warning printed %v\n%s", rounds, warned, out)
		}
	}
}
