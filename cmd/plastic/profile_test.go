package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// profileStrings reads a pprof profile (gzipped protobuf) and returns its
// string table (field 6 of Profile) and the number of samples (field 2).
func profileStrings(t *testing.T, path string) (strs []string, samples int) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s: not gzip: %v", path, err)
	}
	pb, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for len(pb) > 0 {
		key, n := binary.Uvarint(pb)
		if n <= 0 {
			t.Fatalf("%s: bad protobuf key", path)
		}
		pb = pb[n:]
		field, wire := key>>3, key&7
		switch wire {
		case 0:
			_, n = binary.Uvarint(pb)
			if n <= 0 {
				t.Fatalf("%s: bad varint", path)
			}
			pb = pb[n:]
		case 1:
			pb = pb[8:]
		case 5:
			pb = pb[4:]
		case 2:
			l, n := binary.Uvarint(pb)
			if n <= 0 || uint64(len(pb)-n) < l {
				t.Fatalf("%s: bad length", path)
			}
			body := pb[n : n+int(l)]
			pb = pb[n+int(l):]
			switch field {
			case 2:
				samples++
			case 6:
				strs = append(strs, string(body))
			}
		default:
			t.Fatalf("%s: wire type %d", path, wire)
		}
	}
	return strs, samples
}

// TestCPUProfileFlag: --cpuprofile writes a whole pprof CPU profile of the
// command, with samples in this package's training code.
func TestCPUProfileFlag(t *testing.T) {
	out := t.TempDir()
	prof := filepath.Join(out, "cpu.pprof")
	msg, err := runTrain(t, out, "--cpuprofile", prof, "train", "--model", "mlp", "--dataset", "synthetic",
		"--n-train", "4096", "--n-test", "256", "--epochs", "2", "--optimizer", "adam", "--lr", "0.001", "--name", "p")
	if err != nil {
		t.Fatalf("train: %v\n%s", err, msg)
	}
	strs, samples := profileStrings(t, prof)
	for _, want := range []string{"samples", "count", "cpu", "nanoseconds"} {
		if !slices.Contains(strs, want) {
			t.Errorf("profile string table lacks %q", want)
		}
	}
	if samples == 0 {
		t.Fatal("profile has no samples")
	}
	if !slices.ContainsFunc(strs, func(s string) bool { return strings.Contains(s, "plastic/models.") }) {
		t.Error("profile names no function of package models")
	}
	left, _ := filepath.Glob(filepath.Join(out, ".cpu.pprof.tmp-*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestCPUProfileBadPath: an unwritable --cpuprofile fails before any work,
// naming the flag.
func TestCPUProfileBadPath(t *testing.T) {
	out := t.TempDir()
	bad := filepath.Join(out, "no-such-dir", "cpu.pprof")
	_, err := runTrain(t, out, "--cpuprofile", bad, "train", "--model", "mlp", "--dataset", "synthetic", "--name", "x")
	if err == nil || !strings.Contains(err.Error(), "--cpuprofile") {
		t.Fatalf("err = %v, want one naming --cpuprofile", err)
	}
	if _, err := os.Stat(filepath.Join(out, "x")); !os.IsNotExist(err) {
		t.Errorf("a run folder was written: %v", err)
	}
}

// TestCPUProfileInConfig: the flag works from a config file too, for any
// command (here one that fails: the profile is still whole).
func TestCPUProfileInConfig(t *testing.T) {
	out := t.TempDir()
	prof := filepath.Join(out, "c.pprof")
	cfg := writeConfig(t, "p.flags", fmt.Sprintf("--cpuprofile=%s\n", prof))
	_, err := runTrain(t, out, "--config", cfg, "train", "--model", "nope")
	if err == nil {
		t.Fatal("want an error for --model nope")
	}
	strs, _ := profileStrings(t, prof)
	if !slices.Contains(strs, "nanoseconds") {
		t.Errorf("profile after a failed command is not whole: %v", strs)
	}
}
