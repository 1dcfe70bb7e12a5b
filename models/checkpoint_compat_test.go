package models

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"gorgonia.org/tensor"
)

// testdata/v1.ckpt was written by SaveCheckpoint before checkpoints moved
// to internal/binfmt (commit 099ec6a): newTiny(1), trainer state
// {epoch 4, best 0.75}, optimizer blob "optimizer state blob".

// tinyModel is a Classifier of three small tensors (checkpoints only).
type tinyModel struct{ params, bufs []Tensor }

func (m *tinyModel) Name() string      { return "tiny" }
func (m *tinyModel) InputShape() []int { return []int{2} }
func (m *tinyModel) Classes() int      { return 2 }
func (m *tinyModel) Params() []Tensor  { return m.params }
func (m *tinyModel) Buffers() []Tensor { return m.bufs }
func (m *tinyModel) NewSession(int, bool) (*Session, error) {
	return nil, errors.New("tiny: no session")
}

// newTiny holds the fixture's values times scale (0: zeros).
func newTiny(scale float32) *tinyModel {
	t := func(name string, v []float32, shape ...int) Tensor {
		s := make([]float32, len(v))
		for i := range v {
			s[i] = scale * v[i]
		}
		return Tensor{Name: name, Value: tensor.New(tensor.WithShape(shape...), tensor.WithBacking(s))}
	}
	return &tinyModel{
		params: []Tensor{t("fc.weight", []float32{1, -2, 3.5, 0.25}, 2, 2), t("fc.bias", []float32{0.5, -0.5}, 2)},
		bufs:   []Tensor{t("bn.running_mean", []float32{0.1, 0.2}, 2)},
	}
}

type tinyTrainerState struct {
	Epoch int     `json:"epoch"`
	Best  float64 `json:"best"`
}

// TestReadsVersion1Checkpoints: a checkpoint written before still loads,
// to the same tensors, trainer and optimizer state, and today's writer
// produces the same bytes.
func TestReadsVersion1Checkpoints(t *testing.T) {
	got, want := newTiny(0), newTiny(1)
	var st tinyTrainerState
	var ob optBlob
	if err := LoadCheckpoint("testdata/v1.ckpt", got, &st, &ob); err != nil {
		t.Fatal(err)
	}
	if st != (tinyTrainerState{Epoch: 4, Best: 0.75}) || ob != "optimizer state blob" {
		t.Fatalf("trainer state %+v, optimizer blob %q", st, ob)
	}
	for i, p := range append(got.Params(), got.Buffers()...) {
		w := append(want.Params(), want.Buffers()...)[i]
		if !slices.Equal(p.Value.Float32s(), w.Value.Float32s()) {
			t.Fatalf("%s: %v, want %v", p.Name, p.Value.Float32s(), w.Value.Float32s())
		}
	}
	path := filepath.Join(t.TempDir(), "now.ckpt")
	if err := SaveCheckpoint(path, want, tinyTrainerState{Epoch: 4, Best: 0.75}, optBlob("optimizer state blob")); err != nil {
		t.Fatal(err)
	}
	now, _ := os.ReadFile(path)
	old, _ := os.ReadFile("testdata/v1.ckpt")
	if !bytes.Equal(now, old) {
		t.Fatalf("SaveCheckpoint no longer writes version 1 byte for byte (%d bytes, the old file %d)", len(now), len(old))
	}
}
