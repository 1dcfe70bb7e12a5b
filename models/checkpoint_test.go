package models

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestCheckpointRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ck.bin")
	a, err := New("cnn", []int{1, 8, 8}, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	type st struct{ Epoch int }
	if err := SaveCheckpoint(path, a, st{Epoch: 3}, optBlob("opt-state-v1")); err != nil {
		t.Fatal(err)
	}
	b, _ := New("cnn", []int{1, 8, 8}, 10, 2) // other weights
	var got st
	var ob optBlob
	if err := LoadCheckpoint(path, b, &got, &ob); err != nil {
		t.Fatal(err)
	}
	if got.Epoch != 3 || string(ob) != "opt-state-v1" {
		t.Errorf("trainer state %+v, optimizer blob %q", got, ob)
	}
	for i, p := range a.Params() {
		if !slices.Equal(p.Value.Float32s(), b.Params()[i].Value.Float32s()) {
			t.Fatalf("tensor %s differs after load", p.Name)
		}
	}
	// Wrong model, corrupted byte, truncated file: clear errors.
	m, _ := New("mlp", []int{1, 8, 8}, 10, 1)
	if err := LoadCheckpoint(path, m, nil, nil); !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), "cnn") {
		t.Errorf("wrong model: %v", err)
	}
	raw, _ := os.ReadFile(path)
	raw[len(raw)/2] ^= 1
	os.WriteFile(path, raw, 0o644)
	if err := LoadCheckpoint(path, b, nil, nil); !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), "CRC") {
		t.Errorf("corrupted: %v", err)
	}
	os.WriteFile(path, raw[:10], 0o644)
	if err := LoadCheckpoint(path, b, nil, nil); !errors.Is(err, ErrCheckpoint) {
		t.Errorf("truncated: %v", err)
	}
	// Non-finite weights are refused and the old file stays.
	os.WriteFile(path, []byte("old"), 0o644)
	a.Params()[0].Value.Float32s()[0] = float32(nan())
	if err := SaveCheckpoint(path, a, nil, nil); err == nil || !strings.Contains(err.Error(), "non-finite") {
		t.Errorf("NaN weights saved: %v", err)
	}
	if old, _ := os.ReadFile(path); !bytes.Equal(old, []byte("old")) {
		t.Errorf("the previous checkpoint was overwritten")
	}
}

type optBlob string

func (o optBlob) SaveState(w io.Writer) error { _, err := io.WriteString(w, string(o)); return err }
func (o *optBlob) LoadState(r io.Reader) error {
	b, err := io.ReadAll(r)
	*o = optBlob(b)
	return err
}

func nan() float64 { var z float64; return z / z }
