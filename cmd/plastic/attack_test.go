package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plasticity-lab/plastic/baseline"
	"github.com/plasticity-lab/plastic/plots"
)

func runIn(t *testing.T, out string, args ...string) (string, error) {
	t.Helper()
	app := newApp()
	var buf bytes.Buffer
	app.Writer = &buf
	app.ErrWriter = &buf
	err := app.Run(append([]string{"plastic", "-q", "--out", out}, args...))
	return buf.String(), err
}

// TestGDTrainAndAttack trains a tiny GD network on MNIST, attacks it from
// its run folder, draws examples and a combined plot.
func TestGDTrainAndAttack(t *testing.T) {
	out := t.TempDir()
	small := []string{"--data", "mnist", "--n-train", "300", "--n-test", "100", "--nodes", "30", "--cap", "15"}
	msg, err := runIn(t, out, append([]string{"gd", "train", "--epochs", "1", "--batch", "64", "--name", "gd"}, small...)...)
	if err != nil {
		t.Fatalf("gd train: %v\n%s", err, msg)
	}
	net, info, err := baseline.LoadRNN(filepath.Join(out, "gd", networkFile))
	if err != nil || net.Inputs != 784 || info.Trainer != "gd-all" {
		t.Fatalf("saved network: %v %+v", err, info)
	}
	gd := filepath.Join(out, "gd")
	msg, err = runIn(t, out, "attack", "--run", gd, "--n-test", "100", "--images", "6", "--eps-grid", "0,1,3",
		"--steps", "5", "--name", "a")
	if err != nil {
		t.Fatalf("attack: %v\n%s", err, msg)
	}
	tab, err := plots.ReadCSV(filepath.Join(out, "a", "robustness.csv"))
	if err != nil {
		t.Fatal(err)
	}
	acc, err := tab.Floats("robust_acc")
	if err != nil || len(acc) != 3 || acc[2] > acc[1] || acc[1] > acc[0] {
		t.Fatalf("robust accuracy %v (%v)", acc, err)
	}
	for _, f := range []string{"images.csv", "robustness.png", "robustness.svg", "summary.json"} {
		if _, err := os.Stat(filepath.Join(out, "a", f)); err != nil {
			t.Error(err)
		}
	}
	msg, err = runIn(t, out, "attack", "examples", "--model", filepath.Join(gd, networkFile), "--n-test", "100",
		"--images", "2", "--steps", "3", "--eps", "1", "--name", "ex")
	if err != nil {
		t.Fatalf("attack examples: %v\n%s", err, msg)
	}
	if _, err := os.Stat(filepath.Join(out, "ex", "examples.png")); err != nil {
		t.Error(err)
	}
	fig := filepath.Join(out, "fig")
	if msg, err := runIn(t, out, "attack", "plot", "--save", fig, filepath.Join(out, "a"), filepath.Join(out, "a")); err != nil {
		t.Fatalf("attack plot: %v\n%s", err, msg)
	}
	if _, err := os.Stat(fig + ".png"); err != nil {
		t.Error(err)
	}
}

// TestAttackRulesTrainsAndSaves attacks a network trained with rules in
// the same run and checks that the run keeps the network.
func TestAttackRulesTrainsAndSaves(t *testing.T) {
	out := t.TempDir()
	msg, err := runIn(t, out, "attack", "--rules", "perceptron", "--data", "mnist", "--n-train", "300", "--n-test", "100",
		"--nodes", "30", "--cap", "15", "--passes", "1", "--images", "4", "--eps-grid", "0,2", "--steps", "3", "--name", "r")
	if err != nil {
		t.Fatalf("attack --rules: %v\n%s", err, msg)
	}
	if _, info, err := baseline.LoadRNN(filepath.Join(out, "r", networkFile)); err != nil || info.Trainer != "rules:perceptron" {
		t.Fatalf("network of the rule-trained run: %v %+v", err, info)
	}
}

func TestAttackErrors(t *testing.T) {
	out := t.TempDir()
	// A network for 10 inputs (Halfspace) against MNIST's 784.
	if msg, err := runIn(t, out, "gd", "train", "--data", "halfspace", "--n-train", "200", "--n-test", "50",
		"--nodes", "20", "--cap", "10", "--epochs", "1", "--name", "hs"); err != nil {
		t.Fatalf("gd train: %v\n%s", err, msg)
	}
	hs := filepath.Join(out, "hs", networkFile)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"attack", "--model", hs, "--n-test", "50"}, "784 features"},
		{[]string{"attack", "--model", hs, "--eps-grid", "0,2,1"}, "--eps-grid"},
		{[]string{"attack", "--model", hs, "--eps-grid", "-1,0"}, "--eps-grid"},
		{[]string{"attack", "--model", hs, "--run", out}, "exactly one"},
		{[]string{"attack"}, "exactly one"},
		{[]string{"attack", "--run", out}, networkFile},
		{[]string{"attack", "--model", filepath.Join(out, "missing.rnn")}, "missing.rnn"},
		{[]string{"attack", "--model", hs, "--nodes", "50"}, "--nodes"},
		{[]string{"attack", "--model", hs, "--norm", "l1"}, "--norm"},
		{[]string{"attack", "--model", hs, "--steps", "0"}, "--steps"},
		{[]string{"attack", "--model", hs, "--fgsm", "--steps", "3"}, "--fgsm"},
		{[]string{"attack", "examples", "--model", hs, "--eps", "-1"}, "--eps"},
		{[]string{"gd", "train", "--train", "weights"}, "--train"},
		{[]string{"gd", "train", "--lr", "-1"}, "--lr"},
		{[]string{"attack", "plot", "--save", filepath.Join(out, "f"), out}, "not an attack run"},
	} {
		msg, err := runIn(t, out, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one containing %q\n%s", c.args, err, c.want, msg)
		}
	}
}
