package optimizer

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// parseWithFlags runs a cli.App with Flags() on args and returns the config.
func parseWithFlags(t *testing.T, args []string) (Config, error) {
	t.Helper()
	var cfg Config
	var cerr error
	app := &cli.App{
		Name:  "test",
		Flags: Flags(),
		Action: func(c *cli.Context) error {
			cfg, cerr = ConfigFromCLI(c)
			return nil
		},
	}
	app.Writer, app.ErrWriter = nopWriter{}, nopWriter{}
	if err := app.Run(append([]string{"test"}, args...)); err != nil {
		return Config{}, err
	}
	return cfg, cerr
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }

// presetArgs reads a preset: one --flag=value per line, # comments.
func presetArgs(t *testing.T, path string) []string {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var args []string
	sc := bufio.NewScanner(fh)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok || !strings.HasPrefix(name, "--") {
			t.Fatalf("%s:%d: want --flag=value, got %q", path, n, line)
		}
		args = append(args, name+"="+value)
	}
	return args
}

// TestPresets parses every configs/neuroplastic-*.flags and
// configs/optimizer-*.flags through Flags() so that presets cannot rot.
func TestPresets(t *testing.T) {
	var files []string
	for _, pat := range []string{"neuroplastic-*.flags", "optimizer-*.flags"} {
		m, _ := filepath.Glob(filepath.Join("..", "configs", pat))
		files = append(files, m...)
	}
	if len(files) < 7 {
		t.Fatalf("found %d presets: %v", len(files), files)
	}
	got := map[string]Config{}
	for _, f := range files {
		cfg, err := parseWithFlags(t, presetArgs(t, f))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if _, err := New(cfg); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		got[filepath.Base(f)] = cfg
	}
	best := got["neuroplastic-mnist-best.flags"]
	if best.LR != 0.1 || best.NP.WarmupEpochs != 2 || best.NP.PlasticityScale != 2 || best.NP.Mode != ModeRuleBased {
		t.Errorf("mnist-best preset: %+v", best)
	}
	if g := got["neuroplastic-grad-only.flags"]; g.NP.Mode != ModeGradOnly {
		t.Errorf("grad-only preset mode %q", g.NP.Mode)
	}
	c := got["neuroplastic-cifar.flags"]
	if c.LR != 1e-3 || c.WeightDecay != 5e-4 || c.NP.WeightActivity != 0.45 || c.NP.WeightGrad != 0.35 ||
		c.NP.WeightMemory != 0.2 || c.NP.MaxAlpha != 1.8 || c.NP.MaxUpdateNorm != 1.5 || c.NP.TargetRMS != 0.015 {
		t.Errorf("cifar preset: %+v", c)
	}
	d := got["neuroplastic-default.flags"]
	want := DefaultConfig()
	if err := want.Validate(); err != nil {
		t.Fatal(err)
	}
	if d != want {
		t.Errorf("default preset differs from DefaultConfig:\n%+v\n%+v", d, want)
	}
}

// TestFlagsDefaultsAndErrors: no flags gives DefaultConfig; bad values fail
// naming the flag; every flag has usage text.
func TestFlagsDefaultsAndErrors(t *testing.T) {
	cfg, err := parseWithFlags(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	_ = want.Validate()
	if cfg != want {
		t.Errorf("no flags:\n%+v\nwant\n%+v", cfg, want)
	}
	for _, tc := range []struct{ arg, flag string }{
		{"--np-mode=fancy", "--np-mode"},
		{"--np-lr-controller=on", "--np-lr-controller"},
		{"--lr=0", "--lr"},
		{"--np-max-alpha=0.1", "--np-min-alpha"},
		{"--optimizer=lamb", "--optimizer"},
	} {
		_, err := parseWithFlags(t, []string{tc.arg})
		if got := badOption(err); "--"+got != tc.flag {
			t.Errorf("%s: error %v names option %q, want %s", tc.arg, err, got, tc.flag)
		}
	}
	seen := map[string]bool{}
	for _, f := range Flags() {
		name := f.Names()[0]
		if seen[name] {
			t.Errorf("duplicate flag %s", name)
		}
		seen[name] = true
		if df, ok := f.(cli.DocGenerationFlag); !ok || df.GetUsage() == "" {
			t.Errorf("flag %s has no usage", name)
		}
	}
	if _, err := parseWithFlags(t, []string{"--np-layer-scope=head_only", "--np-hybrid-base=adamw"}); err != nil {
		t.Errorf("alias head_only: %v", err)
	}
}
