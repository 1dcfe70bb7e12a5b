package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plasticity-lab/plastic/plots"
)

func TestDemoSmall(t *testing.T) {
	out := t.TempDir()
	run := func(seed, name string) (string, []byte) {
		app := newApp()
		var buf bytes.Buffer
		app.Writer, app.ErrWriter = &buf, &buf
		err := app.Run([]string{"plastic", "-q", "--seed", seed, "--out", out, "demo", "--epochs", "1", "--nodes", "60",
			"--n-train", "1000", "--no-mnist", "--name", name})
		if err != nil {
			t.Fatalf("demo: %v\n%s", err, buf.String())
		}
		csv, err := os.ReadFile(filepath.Join(out, name, "demo.csv"))
		if err != nil {
			t.Fatal(err)
		}
		return buf.String(), csv
	}
	text, csv := run("3", "d3")
	if !strings.Contains(text, "halfspace") || !strings.Contains(text, "Perceptron rule") {
		t.Fatalf("demo table missing:\n%s", text)
	}
	tab, err := plots.ReadCSV(filepath.Join(out, "d3", "demo.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Rows) != 2 {
		t.Fatalf("want halfspace and relu1 rows, got %v", tab.Rows)
	}
	learned, err := tab.Floats("learned_test")
	if err != nil {
		t.Fatal(err)
	}
	// The learned output rule must do clearly better than chance on the
	// set it was learned on (Halfspace, two classes).
	if learned[0] < 0.75 {
		t.Fatalf("learned rule on halfspace: test accuracy %.3f, want >= 0.75", learned[0])
	}
	for _, f := range []string{"demo.png", "demo.svg", "rules.json", "summary.json", "manifest.json"} {
		if _, err := os.Stat(filepath.Join(out, "d3", f)); err != nil {
			t.Fatalf("missing %s: %v", f, err)
		}
	}
	var m struct{ Status string }
	b, _ := os.ReadFile(filepath.Join(out, "d3", "manifest.json"))
	if err := json.Unmarshal(b, &m); err != nil || m.Status != "done" {
		t.Fatalf("manifest status %q (%v)", m.Status, err)
	}
	if _, csv2 := run("3", "again"); !bytes.Equal(csv, csv2) {
		t.Fatalf("same seed, different results:\n%s\n%s", csv, csv2)
	}
}

func TestDemoBadFlags(t *testing.T) {
	app := newApp()
	var buf bytes.Buffer
	app.Writer, app.ErrWriter = &buf, &buf
	err := app.Run([]string{"plastic", "-q", "--out", t.TempDir(), "demo", "--nodes", "1"})
	if err == nil || !strings.Contains(err.Error(), "--nodes 1: want >= 2") {
		t.Fatalf("want an error naming --nodes, got %v", err)
	}
}
