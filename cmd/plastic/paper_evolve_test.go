package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/plasticity-lab/plastic/plots"
)

// evolveApp runs `plastic ... paper evolve ...` with output into dir/name.
func evolveApp(t *testing.T, dir, name string, global []string, args ...string) error {
	t.Helper()
	a := append([]string{"plastic", "--out", dir, "-q", "--device", "cpu"}, global...)
	a = append(a, "paper", "evolve", "--name", name)
	app := newApp()
	app.Writer = &bytes.Buffer{}
	return app.Run(append(a, args...))
}

func TestPaperEvolveQuadratic(t *testing.T) {
	dir := t.TempDir()
	args := []string{"--generations", "150", "--population", "300", "--genes", "10", "--eps", "0.1", "--theta", "0.5", "--target", "0.5", "--start", "-0.4"}
	if err := evolveApp(t, dir, "a", nil, args...); err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(dir, "a")
	for _, f := range []string{"trajectories.csv", "trajectories.png", "trajectories.svg", "summary.json", "metrics.jsonl", "manifest.json"} {
		if st, err := os.Stat(filepath.Join(run, f)); err != nil || st.Size() == 0 {
			t.Fatalf("%s: %v", f, err)
		}
	}
	tab, err := plots.ReadCSV(filepath.Join(run, "trajectories.csv"))
	if err != nil {
		t.Fatal(err)
	}
	want := "generation,coefficient,recursion,first_order,paper_2_2x,gd_y,population"
	if got := strings.Join(tab.Header, ","); got != want {
		t.Fatalf("header %s, want %s", got, want)
	}
	if len(tab.Rows) != 151 {
		t.Fatalf("%d rows, want 151 (generations 0..150)", len(tab.Rows))
	}
	for _, col := range tab.Header[2:] {
		v, err := tab.Floats(col)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(v[0]+0.4) > 1e-12 {
			t.Fatalf("%s starts at %v, want the --start -0.4", col, v[0])
		}
	}
	rec, _ := tab.Floats("recursion")
	gd, _ := tab.Floats("gd_y")
	// GD reaches Y* = 0.5; the recursion rests at Y* n/(n-1) = 0.5556.
	if y := gd[150]; math.Abs(y-0.5) > 1e-3 {
		t.Fatalf("GD on Y ends at %v", y)
	}
	if y := rec[150]; math.Abs(y-0.5*10/9) > 1e-3 {
		t.Fatalf("recursion ends at %v, want Y* n/(n-1) = %v", y, 0.5*10/9)
	}
	var sum map[string]any
	b, _ := os.ReadFile(filepath.Join(run, "summary.json"))
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	if rp, ok := sum["recursion_rest_point"].([]any); !ok || math.Abs(rp[0].(float64)-0.5*10/9) > 1e-12 {
		t.Fatalf("summary rest point %v", sum["recursion_rest_point"])
	}
	if sum["status"] != "done" {
		t.Fatalf("run status %v, want done", sum["status"])
	}
	if l, ok := sum["loss_gd_y"].(float64); !ok || l > 1e-5 {
		t.Fatalf("summary loss_gd_y %v", sum["loss_gd_y"])
	}

	// Same seed, same numbers; another seed moves only the population.
	if err := evolveApp(t, dir, "b", nil, args...); err != nil {
		t.Fatal(err)
	}
	if err := evolveApp(t, dir, "c", []string{"--seed", "2"}, args...); err != nil {
		t.Fatal(err)
	}
	a1, _ := os.ReadFile(filepath.Join(run, "trajectories.csv"))
	b1, _ := os.ReadFile(filepath.Join(dir, "b", "trajectories.csv"))
	if !bytes.Equal(a1, b1) {
		t.Fatal("same seed, different trajectories.csv")
	}
	other, err := plots.ReadCSV(filepath.Join(dir, "c", "trajectories.csv"))
	if err != nil {
		t.Fatal(err)
	}
	p1, _ := tab.Floats("population")
	p2, _ := other.Floats("population")
	r2, _ := other.Floats("recursion")
	if p1[150] == p2[150] || rec[150] != r2[150] {
		t.Fatalf("seed 2: population %v vs %v, recursion %v vs %v", p1[150], p2[150], rec[150], r2[150])
	}
}

func TestPaperEvolveSeveralCoefficients(t *testing.T) {
	dir := t.TempDir()
	if err := evolveApp(t, dir, "m", nil, "--generations", "5", "--target", "0.3", "--target", "-0.2", "--start", "0"); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"trajectories_Y1.png", "trajectories_Y2.svg"} {
		if _, err := os.Stat(filepath.Join(dir, "m", f)); err != nil {
			t.Fatal(err)
		}
	}
	tab, err := plots.ReadCSV(filepath.Join(dir, "m", "trajectories.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Rows) != 12 || len(tab.Header) != 6 {
		t.Fatalf("%d rows x %d columns, want 12 x 6 (no population column)", len(tab.Rows), len(tab.Header))
	}
}

func TestPaperEvolveBadFlags(t *testing.T) {
	cases := [][]string{
		{"--loss", "cubic"},
		{"--genes", "0"},
		{"--eps", "-1"},
		{"--theta", "0"},
		{"--generations", "0"},
		{"--population", "-3"},
		{"--start", "2"},
		{"--target", "1", "--target", "2", "--start", "0", "--start", "0", "--start", "0"},
		{"--loss", "rule", "--target", "1"},
		{"--loss", "rule", "--rule-coefficients", "diag"},
		{"--loss", "rule", "--rounds", "0"},
		{"--loss", "rule", "--examples", "0"},
		{"--eps", "1", "--theta", "100", "--target", "5", "--start", "-5"},
	}
	want := []string{"--loss", "--genes", "--eps", "--theta", "--generations", "--population", "--start", "--start has 3 values for 2 coefficients",
		"--target is for the quadratic loss", "--rule-coefficients", "--rounds", "--examples", "theta = 100 is too large"}
	for i, c := range cases {
		err := evolveApp(t, t.TempDir(), "x", nil, c...)
		if err == nil || !strings.Contains(err.Error(), want[i]) {
			t.Errorf("%v: err = %v, want it to name %q", c, err, want[i])
		}
	}
}

func TestPaperEvolveRule(t *testing.T) {
	dir := t.TempDir()
	args := []string{"--loss", "rule", "--nodes", "20", "--cap", "10", "--examples", "200", "--genes", "10", "--eps", "0.02", "--theta", "1", "--generations", "4", "--population", "50"}
	if err := evolveApp(t, dir, "r", nil, args...); err != nil {
		t.Fatal(err)
	}
	tab, err := plots.ReadCSV(filepath.Join(dir, "r", "trajectories.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := tab.Floats("recursion")
	if len(rec) != 5 || math.Abs(rec[0]-0.05) > 1e-12 || rec[4] <= rec[0] {
		t.Fatalf("recursion trait %v: want it to grow from 0.05 (the loss falls towards larger scales there)", rec)
	}
	if err := evolveApp(t, dir, "t", nil, "--loss", "rule", "--rule-coefficients", "table", "--nodes", "20", "--cap", "10", "--examples", "100", "--genes", "4", "--eps", "0.05", "--theta", "0.5", "--generations", "2"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "t", "trajectories_Y4.png")); err != nil {
		t.Fatal(err)
	}
}

func TestPaperCommandsRegistered(t *testing.T) {
	newApp() // as main does; urfave/cli may add its own help subcommand
	found := false
	for _, c := range commands {
		if c.Name != "paper" {
			continue
		}
		found = true
		var subs []*cli.Command
		for _, s := range c.Subcommands {
			if s.Name != "help" {
				subs = append(subs, s)
			}
		}
		if len(subs) != len(paperCommands) {
			t.Fatalf("paper has %d subcommands but paperCommands holds %d: add them with registerPaper", len(subs), len(paperCommands))
		}
		for i := range paperCommands {
			if subs[i] != paperCommands[i] {
				t.Fatalf("paper subcommand %d is not paperCommands[%d]", i, i)
			}
		}
	}
	if !found {
		t.Fatal("no paper command registered")
	}
	if evolve := paperCommand.Command("evolve"); evolve == nil || !strings.Contains(evolve.Description, "Examples:") {
		t.Fatal("paper evolve is missing or has no examples")
	}
}
