package main

// Run records are never lost or mixed: a refused command touches nothing,
// one writer per run folder and per sweep folder, resume edge cases, and
// bad input refused before any run folder is made.

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/plasticity-lab/plastic/plasticity"
	"github.com/plasticity-lab/plastic/plots"
	"github.com/plasticity-lab/plastic/run"
	"github.com/plasticity-lab/plastic/train"
)

// synthArgs train a tiny MLP on synthetic data (a few ms per epoch).
var synthArgs = []string{"--model", "mlp", "--dataset", "synthetic", "--n-train", "64", "--n-test", "32", "--batch-size", "64",
	"--optimizer", "adam", "--lr", "0.001"}

func trainArgs(name string, epochs int, extra ...string) []string {
	a := append([]string{"train", "--name", name, "--epochs", strconv.Itoa(epochs)}, synthArgs...)
	return append(a, extra...)
}

// snapshot is every file under dir with a hash of its bytes and its
// modification time.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			out[rel+"/"] = ""
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[rel] = fmt.Sprintf("%x %d", sha256.Sum256(b), info.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameSnapshot(t *testing.T, what string, before, after map[string]string) {
	t.Helper()
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s: %s changed (%q -> %q)", what, k, v, after[k])
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			t.Errorf("%s: %s appeared", what, k)
		}
	}
}

func manifestOf(t *testing.T, dir string) run.Manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, run.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	var m run.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// editManifest rewrites a run's manifest, as a crash or an older state
// would have left it.
func editManifest(t *testing.T, dir string, f func(*run.Manifest)) {
	t.Helper()
	m := manifestOf(t, dir)
	f(&m)
	b, _ := json.MarshalIndent(m, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, run.ManifestFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// epochsOf is the "epoch" of every metrics line of a run.
func epochsOf(t *testing.T, dir string) []int {
	t.Helper()
	var out []int
	for _, m := range readMetrics(t, dir) {
		out = append(out, int(m["epoch"]))
	}
	return out
}

// sameMetrics compares the training figures (not the timings) of two runs.
func sameMetrics(t *testing.T, a, b string) {
	t.Helper()
	ma, mb := readMetrics(t, a), readMetrics(t, b)
	if len(ma) != len(mb) {
		t.Fatalf("%s has %d metrics lines, %s %d", a, len(ma), b, len(mb))
	}
	for i := range ma {
		for _, k := range []string{"epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy"} {
			if ma[i][k] != mb[i][k] {
				t.Errorf("line %d %s: %v vs %v", i+1, k, ma[i][k], mb[i][k])
			}
		}
	}
}

// startCLI runs the plastic command line in a child process (this test
// binary acting as plastic, see TestMain).
func startCLI(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), envChild+"=1")
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		if t.Failed() {
			t.Logf("child %v:\n%s", args, log.String())
		}
	})
	return cmd
}

// waitFor polls cond every 10 ms for up to a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func hasMetrics(dir string) func() bool {
	return func() bool {
		b, err := os.ReadFile(filepath.Join(dir, run.MetricsFile))
		return err == nil && bytes.Count(b, []byte("\n")) >= 1
	}
}

// Case 1: a refused --resume (finished run, run of another command)
// leaves the run folder exactly as it was.
func TestResumeRefusedTouchesNothing(t *testing.T) {
	out := t.TempDir()
	if msg, err := runTrain(t, out, trainArgs("done1", 1)...); err != nil {
		t.Fatal(err, msg)
	}
	dir := filepath.Join(out, "done1")
	before := snapshot(t, dir)
	_, err := runTrain(t, out, "train", "--resume", "done1")
	if err == nil || !strings.Contains(err.Error(), "finished") {
		t.Errorf("resume of a finished run: %v", err)
	}
	sameSnapshot(t, "finished run", before, snapshot(t, dir))
	if m := manifestOf(t, dir); m.Status != run.StatusDone {
		t.Errorf("status %s", m.Status)
	}

	other, err := run.Create(out, run.Manifest{ID: "learned", Command: "rule-learn", Flags: map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Finish(nil); err != nil {
		t.Fatal(err)
	}
	odir := filepath.Join(out, "learned")
	before = snapshot(t, odir)
	_, err = runTrain(t, out, "train", "--resume", "learned")
	if err == nil || !strings.Contains(err.Error(), "rule-learn") {
		t.Errorf("resume of a rule-learn run: %v", err)
	}
	sameSnapshot(t, "rule-learn run", before, snapshot(t, odir))
}

// Case 2: train --resume of a run that is training is refused, naming the
// process that holds it; the run's metrics stay one line per epoch.
func TestSecondWriterOnRunRefused(t *testing.T) {
	t.Setenv(envChild, "")
	out := t.TempDir()
	child := startCLI(t, append([]string{"-q", "--out", out}, trainArgs("busy", 300)...)...)
	dir := filepath.Join(out, "busy")
	waitFor(t, "the first epoch", hasMetrics(dir))
	before := snapshot(t, dir)
	_, err := runTrain(t, out, "train", "--resume", "busy")
	pid := strconv.Itoa(child.Process.Pid)
	if err == nil || !strings.Contains(err.Error(), "in use") || !strings.Contains(err.Error(), "pid "+pid) {
		t.Errorf("second writer: %v (want in use by pid %s)", err, pid)
	}
	after := snapshot(t, dir)
	for k, v := range before {
		if k != run.MetricsFile && k != run.ManifestFile && !strings.HasPrefix(k, "checkpoint") && after[k] != v {
			t.Errorf("%s changed", k)
		}
	}
	child.Process.Signal(syscall.SIGINT)
	child.Wait()
	eps := epochsOf(t, dir)
	for i, e := range eps {
		if e != i+1 {
			t.Fatalf("metrics epochs %v", eps)
		}
	}
}

// Case 2: a second sweep of the same folder is refused, naming the first.
func TestSecondSweepRefused(t *testing.T) {
	t.Setenv(envChild, "")
	out := t.TempDir()
	args := []string{"-q", "--out", out, "sweep", "--name", "S", "--dataset", "synthetic", "--epochs", "300", "--batch-size", "64",
		"--optimizers", "adam", "--", "--n-train", "64", "--n-test", "32"}
	child := startCLI(t, args...)
	cell := filepath.Join(out, "S", "adam-s1")
	waitFor(t, "the first epoch of the cell", hasMetrics(cell))
	t.Setenv(envChild, "1") // cells of an in-process sweep run this binary
	msg, err := runSweepCLI(t, args...)
	pid := strconv.Itoa(child.Process.Pid)
	if err == nil || !strings.Contains(err.Error(), "in use") || !strings.Contains(err.Error(), "pid "+pid) {
		t.Errorf("second sweep: %v (want in use by pid %s)\n%s", err, pid, msg)
	}
	child.Process.Signal(syscall.SIGINT)
	child.Wait()
	eps := epochsOf(t, cell)
	for i, e := range eps {
		if e != i+1 {
			t.Fatalf("metrics epochs %v", eps)
		}
	}
}

// Cases 4 and 5: a run interrupted (SIGINT) or killed (SIGKILL) before its
// first checkpoint resumes from the beginning in the same folder, and the
// manifest records the resumption in both cases.
func TestResumeWithoutCheckpoint(t *testing.T) {
	out := t.TempDir()
	if msg, err := runTrain(t, out, trainArgs("ref", 2)...); err != nil {
		t.Fatal(err, msg)
	}
	ref := manifestOf(t, filepath.Join(out, "ref"))
	for _, c := range []struct{ id, status string }{{"sigint", run.StatusInterrupted}, {"sigkill", run.StatusRunning}} {
		t.Run(c.id, func(t *testing.T) {
			m := ref
			m.ID, m.Status, m.End, m.Start = c.id, run.StatusRunning, nil, time.Time{}
			m.Flags = map[string]any{}
			for k, v := range ref.Flags {
				m.Flags[k] = v
			}
			m.Flags["name"] = c.id
			m.Status = c.status
			// What the run left: its manifest only (SIGKILL: still
			// "running"; SIGINT: "interrupted").
			os.Mkdir(filepath.Join(out, c.id), 0o755)
			b, _ := json.MarshalIndent(m, "", "  ")
			if err := os.WriteFile(filepath.Join(out, c.id, run.ManifestFile), b, 0o644); err != nil {
				t.Fatal(err)
			}
			msg, err := runTrain(t, out, "train", "--resume", c.id)
			if err != nil {
				t.Fatalf("resume: %v\n%s", err, msg)
			}
			dir := filepath.Join(out, c.id)
			sameMetrics(t, filepath.Join(out, "ref"), dir)
			if got := manifestOf(t, dir); got.Status != run.StatusDone || len(got.Resumed) != 1 {
				t.Errorf("manifest status %s, resumed %v", got.Status, got.Resumed)
			}
		})
	}
	// Killed after its first checkpoint: the manifest still says running.
	if msg, err := runTrain(t, out, trainArgs("killed", 1)...); err != nil {
		t.Fatal(err, msg)
	}
	dir := filepath.Join(out, "killed")
	editManifest(t, dir, func(m *run.Manifest) { m.Flags["epochs"], m.Status, m.End = 2, run.StatusRunning, nil })
	os.Remove(filepath.Join(dir, run.SummaryFile))
	if msg, err := runTrain(t, out, "train", "--resume", "killed"); err != nil {
		t.Fatal(err, msg)
	}
	sameMetrics(t, filepath.Join(out, "ref"), dir)
	if got := manifestOf(t, dir); got.Status != run.StatusDone || len(got.Resumed) != 1 {
		t.Errorf("after SIGKILL: status %s, resumed %v", got.Status, got.Resumed)
	}
}

// Also: a crash after the metrics line of an epoch but before its
// checkpoint leaves no duplicate line after resume.
func TestResumeAfterCrashBetweenMetricsAndCheckpoint(t *testing.T) {
	out := t.TempDir()
	if msg, err := runTrain(t, out, trainArgs("ref", 3)...); err != nil {
		t.Fatal(err, msg)
	}
	if msg, err := runTrain(t, out, trainArgs("crash", 1)...); err != nil {
		t.Fatal(err, msg)
	}
	dir := filepath.Join(out, "crash")
	editManifest(t, dir, func(m *run.Manifest) { m.Flags["epochs"], m.Status, m.End = 3, run.StatusRunning, nil })
	// The metrics line of epoch 2 reached the disk, its checkpoint did not.
	refLines, err := os.ReadFile(filepath.Join(out, "ref", run.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	second := strings.SplitAfter(string(refLines), "\n")[1]
	f, _ := os.OpenFile(filepath.Join(dir, run.MetricsFile), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(second)
	f.Close()
	if msg, err := runTrain(t, out, "train", "--resume", "crash"); err != nil {
		t.Fatal(err, msg)
	}
	if eps := epochsOf(t, dir); fmt.Sprint(eps) != "[1 2 3]" {
		t.Fatalf("epochs %v after resume, want [1 2 3]", eps)
	}
	sameMetrics(t, filepath.Join(out, "ref"), dir)
}

// Case 6: flags that conflict with the run's are refused, naming them;
// more --epochs is accepted and recorded.
func TestResumeConflictingFlags(t *testing.T) {
	out := t.TempDir()
	if msg, err := runTrain(t, out, trainArgs("part", 1)...); err != nil {
		t.Fatal(err, msg)
	}
	dir := filepath.Join(out, "part")
	editManifest(t, dir, func(m *run.Manifest) { m.Flags["epochs"], m.Status = 2, run.StatusInterrupted })
	before := snapshot(t, dir)
	_, err := runTrain(t, out, "train", "--resume", "part", "--lr", "0.3", "--optimizer", "sgd")
	if err == nil || !strings.Contains(err.Error(), "--lr") || !strings.Contains(err.Error(), "--optimizer") {
		t.Errorf("conflicting flags: %v", err)
	}
	_, err = runTrain(t, out, "train", "--resume", "part", "--epochs", "1")
	if err == nil || !strings.Contains(err.Error(), "--epochs=1 (the run has 2; it may only grow)") {
		t.Errorf("fewer epochs: %v", err)
	}
	_, err = runTrain(t, out, "--seed", "9", "train", "--resume", "part", "--name", "other")
	if err == nil || !strings.Contains(err.Error(), "--seed=9 (the run has 1)") || !strings.Contains(err.Error(), "--name=other") {
		t.Errorf("other seed and name: %v", err)
	}
	sameSnapshot(t, "refused resume", before, snapshot(t, dir))
	// The same value as recorded is no conflict.
	if msg, err := runTrain(t, out, "train", "--resume", "part", "--lr", "0.001", "--epochs", "3"); err != nil {
		t.Fatal(err, msg)
	}
	m := manifestOf(t, dir)
	ch := changesOf(t, dir)
	if m.Flags["epochs"] != 3.0 || len(ch) != 1 || ch[0]["flag"] != "epochs" || ch[0]["from"] != "2" || ch[0]["to"] != "3" {
		t.Errorf("manifest epochs %v, changes %v", m.Flags["epochs"], ch)
	}
	if eps := epochsOf(t, dir); fmt.Sprint(eps) != "[1 2 3]" {
		t.Errorf("epochs %v", eps)
	}
	// A finished run continues with more epochs.
	if msg, err := runTrain(t, out, "train", "--resume", "part", "--epochs", "4"); err != nil {
		t.Fatal(err, msg)
	}
	if m := manifestOf(t, dir); m.Status != run.StatusDone || len(changesOf(t, dir)) != 2 || fmt.Sprint(epochsOf(t, dir)) != "[1 2 3 4]" {
		t.Errorf("extended finished run: status %s, changes %v, epochs %v", m.Status, changesOf(t, dir), epochsOf(t, dir))
	}
}

// changesOf is the manifest's record of flags changed on resume.
func changesOf(t *testing.T, dir string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, run.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Changes []map[string]any `json:"changes"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m.Changes
}

// Case 7: plot groups by every flag but the seed and labels curves by what
// differs.
func TestPlotGroupsByEveryFlag(t *testing.T) {
	root := t.TempDir()
	for _, n := range []float64{100, 200} {
		for seed := int64(1); seed <= 2; seed++ {
			flags := map[string]any{"optimizer": "sgd", "lr": 0.1, "train-fraction": 1.0, "dataset": "mnist", "model": "mlp",
				"n-train": n, "momentum": 0.9, "seed": float64(seed), "name": fmt.Sprintf("n%g-s%d", n, seed)}
			fabricateCell(t, root, fmt.Sprintf("n%g-s%d", n, seed), flags, seed, []float64{n / 1000, n/1000 + 0.1})
		}
	}
	to := filepath.Join(root, "figs")
	if msg, err := runSweepCLI(t, "plot", "--to", to, root); err != nil {
		t.Fatal(err, msg)
	}
	tab, err := plots.ReadCSV(filepath.Join(to, "curves-test-accuracy.csv"))
	if err != nil {
		t.Fatal(err)
	}
	series := map[string]int{}
	for _, row := range tab.Rows {
		series[row[0]]++
	}
	if len(series) != 2 || series["sgd, n-train 100"] != 2 || series["sgd, n-train 200"] != 2 {
		t.Errorf("series %v, want sgd, n-train 100 and sgd, n-train 200 with 2 epochs each", series)
	}
}

// Case 8: a rule file is checked like the flags.
func TestRuleFileValuesChecked(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ body, want string }{
		{`{"format":"plastic-rules/1","T":1,"update":"additive","eta":-1,"rules":[{"target":"output","kind":"table","shape":[2,2],"values":[-1,1,1,-1]}]}`, "eta"},
		{`{"format":"plastic-rules/1","T":1,"update":"additive","rules":[{"target":"output","kind":"table","shape":[2,2],"values":[-1,null,1,-1]}]}`, "null"},
	} {
		file := filepath.Join(dir, "r.json")
		os.WriteFile(file, []byte(c.body), 0o644)
		out := t.TempDir()
		_, err := runTrain(t, out, "rule", "train", "--rules", file, "--data", "halfspace", "--nodes", "20", "--cap", "10", "--n-train", "50")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error about %s", c.body, err, c.want)
		}
		if ents, _ := os.ReadDir(out); len(ents) != 0 {
			t.Errorf("a refused rule file left %v", ents)
		}
	}
	if _, err := plasticity.Builtin("perceptron"); err != nil {
		t.Fatal(err)
	}
}

// Case 9: a --data-dir the user named is the only place MNIST is read from.
func TestDataDirNamedMustHoldMNIST(t *testing.T) {
	empty := t.TempDir()
	out := t.TempDir()
	_, err := runTrain(t, out, "--data-dir", empty, "train", "--dataset", "mnist", "--epochs", "1", "--n-train", "64", "--n-test", "64")
	if err == nil || !strings.Contains(err.Error(), filepath.Join(empty, "mnist")) || !strings.Contains(err.Error(), "--data-dir "+empty) {
		t.Errorf("empty --data-dir: %v (want the flag and the folder named)", err)
	}
	part := t.TempDir()
	os.MkdirAll(filepath.Join(part, "mnist"), 0o755)
	os.WriteFile(filepath.Join(part, "mnist", "train-images-idx3-ubyte.gz"), []byte("x"), 0o644)
	_, err = runTrain(t, out, "--data-dir", part, "train", "--dataset", "mnist", "--epochs", "1", "--n-train", "64", "--n-test", "64")
	if err == nil || !strings.Contains(err.Error(), "t10k-images-idx3-ubyte") {
		t.Errorf("incomplete --data-dir: %v", err)
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("refused runs left %v", ents)
	}
}

// Case 9: one log line says which MNIST files are used.
func TestDataFilesLogged(t *testing.T) {
	var logBuf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logBuf, nil)))
	defer slog.SetDefault(old)
	app := newApp()
	var buf bytes.Buffer
	app.Writer, app.ErrWriter = &buf, &buf
	err := app.Run([]string{"plastic", "--out", t.TempDir(), "train", "--dataset", "mnist", "--epochs", "1", "--n-train", "64", "--n-test", "64"})
	if err != nil {
		t.Skipf("no MNIST here: %v", err)
	}
	if n := strings.Count(logBuf.String(), "t10k-images-idx3-ubyte"); n != 1 {
		t.Errorf("%d log lines name the MNIST test images, want 1:\n%s", n, logBuf.String())
	}
}

// Case 10: a failed usage of any command that writes a run folder leaves
// no folder behind.
func TestFailedUsageLeavesNoFolder(t *testing.T) {
	bad := map[string][][]string{
		"train":           {{"train", "--dataset", "synthetic", "--n-train", "64", "--n-test", "32", "--np-warmup-epochs", "-1", "--optimizer", "neuroplastic"}},
		"rule learn":      {{"rule", "learn", "--data", "halfspace", "--n-train", "50", "--lr", "-1"}},
		"rule train":      {{"rule", "train", "--rules", "perceptron", "--data", "halfspace", "--n-train", "50", "--passes", "0"}},
		"rule optimal":    {{"rule", "optimal", "--data", "halfspace", "--n-train", "50", "--eta", "0"}},
		"gd train":        {{"gd", "train", "--data", "halfspace", "--n-train", "50", "--lr", "-1"}},
		"attack":          {{"attack", "--eps-grid", "0:1:2"}, {"attack", "--run", "no-such-run"}},
		"attack examples": {{"attack", "examples", "--images", "3"}},
		"paper fig2":      {{"paper", "fig2", "--every", "150"}},
		"paper fig3":      {{"paper", "fig3", "--repeats", "0"}},
		"paper table2":    {{"paper", "table2", "--seeds", "0"}},
		"paper fig6":      {{"paper", "fig6", "--n-train", "0"}},
		"paper classic":   {{"paper", "classic", "--pairs", "2:1"}},
		"paper optimal":   {{"paper", "optimal", "--data", "fashion-mnist"}},
		"paper evolve":    {{"paper", "evolve", "--loss", "nope"}},
		"demo":            {{"demo", "--epochs", "0"}},
	}
	// Every command with a --name flag writes a run folder: each must be
	// in the table.
	var walk func(prefix string, cmds []*cli.Command)
	walk = func(prefix string, cmds []*cli.Command) {
		for _, c := range cmds {
			name := strings.TrimSpace(prefix + " " + c.Name)
			if name == "sweep" {
				continue // a sweep folder, not a run folder: TestSweepBadInput
			}
			for _, f := range c.Flags {
				if f.Names()[0] == flagName {
					if _, ok := bad[name]; !ok && c.Action != nil {
						t.Errorf("command %q writes a run folder but has no bad usage in this test", name)
					}
				}
			}
			walk(name, c.Subcommands)
		}
	}
	walk("", newApp().Commands)
	for name, usages := range bad {
		for _, args := range usages {
			out := t.TempDir()
			app := newApp()
			var buf bytes.Buffer
			app.Writer, app.ErrWriter = &buf, &buf
			err := app.Run(append([]string{"plastic", "-q", "--out", out, "--data-dir", t.TempDir()}, args...))
			if err == nil {
				t.Errorf("%s %v: no error", name, args)
				continue
			}
			if ents, _ := os.ReadDir(out); len(ents) != 0 {
				t.Errorf("%s %v (%v) left %s", name, args, err, ents[0].Name())
			}
		}
	}
}

// Case 11: an unknown command says so, suggests the nearest and exits 2.
func TestUnknownCommand(t *testing.T) {
	t.Setenv(envChild, "")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"trian"}, `unknown command "trian"`},
		{[]string{"rule", "lern"}, `unknown command "rule lern"`},
	} {
		cmd := startCLI(t, c.args...)
		err := cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Errorf("%v: exit %v, want 2", c.args, err)
		}
		msg := cmd.Stdout.(*bytes.Buffer).String()
		sugg := map[string]string{"trian": `"train"`, "rule": `"learn"`}[c.args[0]]
		if !strings.Contains(msg, c.want) || !strings.Contains(msg, "did you mean "+sugg) {
			t.Errorf("%v: %q", c.args, msg)
		}
	}
}

// Case 11: a binary --config file is reported without its whole line.
func TestBinaryConfigCut(t *testing.T) {
	b := make([]byte, 20000)
	for i := range b {
		b[i] = byte(i*7 + 3)
		if b[i] == '\n' {
			b[i] = 0
		}
	}
	file := filepath.Join(t.TempDir(), "model.bin")
	os.WriteFile(file, b, 0o644)
	_, err := runTrain(t, t.TempDir(), "--config", file, "train")
	if err == nil || !strings.Contains(err.Error(), file+":1") || len(err.Error()) > 300 {
		t.Errorf("binary config: %d chars: %.400v", len(fmt.Sprint(err)), err)
	}
}

// Case 12: a loss that grows by orders of magnitude over the first epoch is
// divergence: failed by default, a warning with --fail-on-divergence=false.
func TestLossGrowthIsDivergence(t *testing.T) {
	out := t.TempDir()
	args := []string{"train", "--model", "mlp", "--dataset", "synthetic", "--n-train", "256", "--n-test", "64", "--batch-size", "32",
		"--optimizer", "adam", "--lr", "1e6", "--epochs", "2"}
	_, err := runTrain(t, out, append(args, "--name", "fail")...)
	if !errors.Is(err, train.ErrDiverged) && (err == nil || !strings.Contains(err.Error(), "diverged")) {
		t.Errorf("lr 1e6: %v, want diverged", err)
	}
	if m := manifestOf(t, filepath.Join(out, "fail")); m.Status != run.StatusFailed || !strings.Contains(m.Error, "diverged") {
		t.Errorf("manifest %s %q", m.Status, m.Error)
	}
	if msg, err := runTrain(t, out, append(args, "--name", "warn", "--fail-on-divergence=false")...); err != nil {
		t.Fatalf("warn only: %v\n%s", err, msg)
	}
	_, _, sum := runRecord(t, filepath.Join(out, "warn"))
	if sum["status"] != "done" || !strings.Contains(fmt.Sprint(sum["divergence"]), "grew") {
		t.Errorf("summary %v", sum)
	}
}

// The manifest records slice flags with their elements (they were written
// as {}), so plot groups and resumes see them.
func TestManifestRecordsSliceFlags(t *testing.T) {
	cmd := &cli.Command{
		Name: "fit",
		Flags: append([]cli.Flag{
			&cli.StringSliceFlag{Name: "data", Value: cli.NewStringSlice("a", "b")},
			&cli.Float64SliceFlag{Name: "lrs"},
			&cli.IntSliceFlag{Name: "sizes"},
		}, runFlags()...),
		Action: func(c *cli.Context) error {
			r, _, stop, err := startRun(c, "fit")
			if err != nil {
				return err
			}
			defer stop()
			return r.AppendMetrics(map[string]float64{"x": 1})
		},
	}
	app := &cli.App{Name: "plastic", Flags: globalFlags(), Commands: []*cli.Command{cmd}, Before: applyConfigs, Writer: io.Discard}
	out := t.TempDir()
	if err := app.Run([]string{"plastic", "-q", "--out", out, "fit", "--name", "f", "--lrs", "0.1,0.01", "--sizes", "3"}); err != nil {
		t.Fatal(err)
	}
	m := manifestOf(t, filepath.Join(out, "f"))
	if fmt.Sprint(m.Flags["data"]) != "[a b]" || fmt.Sprint(m.Flags["lrs"]) != "[0.1 0.01]" || fmt.Sprint(m.Flags["sizes"]) != "[3]" {
		t.Fatalf("slice flags recorded as %v %v %v", m.Flags["data"], m.Flags["lrs"], m.Flags["sizes"])
	}
}
