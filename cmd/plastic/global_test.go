package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// probeApp is an app with the real global flags and config handling and one
// command with its own flags, recording what its Before and Action see.
type probeResult struct {
	seed        int64
	out         string
	quiet       bool
	lr          float64
	epochs      int
	beforeLR    float64
	dataDir     string
	actionCalls int
}

func probeApp(res *probeResult) *cli.App {
	cmd := &cli.Command{
		Name: "probe",
		Flags: []cli.Flag{
			&cli.Float64Flag{Name: "lr", Value: 0.1},
			&cli.IntFlag{Name: "epochs", Value: 3},
		},
		Before: func(c *cli.Context) error {
			res.beforeLR = c.Float64("lr")
			return nil
		},
		Action: func(c *cli.Context) error {
			res.actionCalls++
			res.seed = c.Int64(flagSeed)
			res.out = c.String(flagOut)
			res.quiet = c.Bool(flagQuiet)
			res.lr = c.Float64("lr")
			res.epochs = c.Int("epochs")
			res.dataDir = c.String(flagDataDir)
			return nil
		},
	}
	return &cli.App{
		Name:     "plastic",
		Flags:    globalFlags(),
		Commands: []*cli.Command{cmd},
		Before:   applyConfigs,
		Writer:   &strings.Builder{},
	}
}

func writeConfig(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigPrecedence(t *testing.T) {
	a := writeConfig(t, "a.flags", `# first preset
--seed=5
--lr=0.5

--epochs=7
--quiet
--out=fromA
`)
	b := writeConfig(t, "b.flags", "--lr=0.25\n--out=fromB\n  # indented comment\n")
	var res probeResult
	args := []string{"plastic", "--config", a, "--config", b, "--out", "cmdline", "probe", "--epochs", "9"}
	if err := probeApp(&res).Run(args); err != nil {
		t.Fatal(err)
	}
	if res.actionCalls != 1 {
		t.Fatalf("action ran %d times", res.actionCalls)
	}
	if res.seed != 5 {
		t.Errorf("seed %d, want 5 from a.flags", res.seed)
	}
	if res.lr != 0.25 || res.beforeLR != 0.25 {
		t.Errorf("lr %v (Before saw %v), want 0.25: the later file wins", res.lr, res.beforeLR)
	}
	if res.epochs != 9 {
		t.Errorf("epochs %d, want 9: the command line wins over files", res.epochs)
	}
	if res.out != "cmdline" {
		t.Errorf("out %q, want the command line's", res.out)
	}
	if !res.quiet {
		t.Error("bare --quiet in a file should set it")
	}
	if res.dataDir != "datasets" {
		t.Errorf("data-dir %q, want the default", res.dataDir)
	}
}

func TestConfigDefaultsWithoutFiles(t *testing.T) {
	var res probeResult
	if err := probeApp(&res).Run([]string{"plastic", "probe"}); err != nil {
		t.Fatal(err)
	}
	if res.seed != 1 || res.out != "runs" || res.lr != 0.1 || res.epochs != 3 || res.quiet {
		t.Fatalf("defaults wrong: %+v", res)
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		name, body, want string
	}{
		{"unknown", "--seed=2\n\n--nosuch=1\n", ":3: unknown flag --nosuch"},
		{"badint", "# c\n--seed=abc\n", `:2: invalid value "abc" for --seed`},
		{"badfloat", "--lr=fast\n", `:1: invalid value "fast" for --lr`},
		{"novalue", "--epochs\n", ":1: flag --epochs needs a value"},
		{"syntax", "seed=3\n", `:1: want --flag=value`},
		{"device", "--device=tpu\n", `:1: --device="tpu": want auto, cpu or cuda`},
		{"badbool", "--quiet=maybe\n", `:1: invalid value "maybe" for --quiet`},
		{"nested", "--config=x.flags\n", ":1: --config cannot be used inside a config file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := writeConfig(t, tc.name+".flags", tc.body)
			var res probeResult
			// The command line sets every flag too: a bad file line must
			// still fail.
			err := probeApp(&res).Run([]string{"plastic", "--config", p, "--seed", "4", "probe", "--lr", "1", "--epochs", "2"})
			if err == nil {
				t.Fatal("want an error")
			}
			if !strings.HasPrefix(err.Error(), p) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want %q after the file name %s", err, tc.want, p)
			}
			if res.actionCalls != 0 {
				t.Fatal("the command ran despite a bad config")
			}
		})
	}
}

func TestConfigMissingFile(t *testing.T) {
	var res probeResult
	err := probeApp(&res).Run([]string{"plastic", "--config", "/nonexistent/x.flags", "probe"})
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/x.flags") {
		t.Fatalf("error %v, want one naming the file", err)
	}
}

func TestDeviceFlag(t *testing.T) {
	var res probeResult
	err := probeApp(&res).Run([]string{"plastic", "--device", "gpu", "probe"})
	if err == nil || !strings.Contains(err.Error(), "want auto, cpu or cuda") {
		t.Fatalf("error %v", err)
	}
	if err := probeApp(&res).Run([]string{"plastic", "--device", "cpu", "probe"}); err != nil {
		t.Fatal(err)
	}
}

func TestEveryCommandHasHelpAndExamples(t *testing.T) {
	var walk func(prefix string, cmds []*cli.Command)
	walk = func(prefix string, cmds []*cli.Command) {
		for _, c := range cmds {
			if c.Name == "help" {
				continue // urfave's own
			}
			name := prefix + " " + c.Name
			if c.Usage == "" {
				t.Errorf("%s: no Usage", name)
			}
			if len(c.Subcommands) == 0 && c.UsageText == "" && c.Description == "" {
				t.Errorf("%s: no UsageText/Description with examples", name)
			}
			walk(name, c.Subcommands)
		}
	}
	walk("plastic", newApp().Commands)
}

// TestRemovedFiringFlags: the boolean firing flags of earlier versions, in
// a config file or on the command line, fail with a message naming
// --firing (and the file and line) rather than as unknown flags; a bad
// --firing value in a config file fails with its file and line.
func TestRemovedFiringFlags(t *testing.T) {
	old := writeConfig(t, "old.flags", "--epochs=2\n--topk-firing\n")
	var res probeResult
	err := probeApp(&res).Run([]string{"plastic", "--config", old, "probe"})
	if err == nil || !strings.Contains(err.Error(), "old.flags:2") || !strings.Contains(err.Error(), "--firing=topk|nonzero") {
		t.Fatalf("config with --topk-firing: %v", err)
	}
	for _, arg := range []string{"--t3-topk-firing", "-rnn-topk-firing=false", "--topk-firing=true"} {
		err := probeApp(&res).Run([]string{"plastic", "probe", arg})
		if err == nil || !strings.Contains(err.Error(), "replaced by --firing") {
			t.Fatalf("%s on the command line: %v", arg, err)
		}
	}
	if res.actionCalls != 0 {
		t.Fatal("a command ran with a removed flag")
	}
	app := newApp()
	app.Writer = &strings.Builder{}
	bad := writeConfig(t, "bad.flags", "--firing=positive\n")
	err = app.Run([]string{"plastic", "--config", bad, "rule", "train", "--rules", "perceptron"})
	if err == nil || !strings.Contains(err.Error(), "bad.flags:1") || !strings.Contains(err.Error(), "positive") {
		t.Fatalf("bad --firing in a config file: %v", err)
	}
}
