package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plasticity-lab/plastic/cuda"
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
