package baseline

import (
	"bytes"
	"os"
	"slices"
	"testing"

	"github.com/plasticity-lab/plastic/models"
)

// testdata/v1.rnn was written by SaveRNN before the network file moved to
// internal/binfmt (commit 099ec6a), from fixtureNet and fixtureInfo.

var fixtureInfo = NetInfo{Trainer: "gd-all", Dataset: "halfspace", Epochs: 2, TestAcc: 0.875, Seed: 7, Run: "fixture"}

func fixtureNet(t *testing.T) *models.RNN {
	net, err := models.NewRNN(models.RNNConfig{Inputs: 3, Labels: 2, Nodes: 5, P: 0.6, Cap: 2, T: 2, Firing: models.FiringTopK}, 7)
	if err != nil {
		t.Fatal(err)
	}
	for i := range net.W {
		net.W[i] = 0.01*float64(i) - 0.1
	}
	for i := range net.U {
		net.U[i] = 0.5 - 0.1*float64(i)
	}
	for i := range net.B {
		net.B[i] = 0.25 * float64(i)
	}
	net.C[0], net.C[1] = 0.5, -0.5
	return net
}

// TestReadsVersion1Files: a network file written before still reads, to
// the same network, and today's writer produces the same bytes.
func TestReadsVersion1Files(t *testing.T) {
	want := fixtureNet(t)
	got, info, err := LoadRNN("testdata/v1.rnn")
	if err != nil {
		t.Fatal(err)
	}
	if info != fixtureInfo || got.RNNConfig != want.RNNConfig {
		t.Fatalf("read %+v %+v, want %+v %+v", info, got.RNNConfig, fixtureInfo, want.RNNConfig)
	}
	for _, p := range [][2][]float64{{got.A, want.A}, {got.InMask, want.InMask}, {got.GraphMask, want.GraphMask},
		{got.W, want.W}, {got.U, want.U}, {got.B, want.B}, {got.C, want.C}} {
		if len(p[0]) != len(p[1]) {
			t.Fatalf("lengths %d, %d", len(p[0]), len(p[1]))
		}
		for i := range p[1] {
			if p[0][i] != p[1][i] {
				t.Fatalf("value %d: %v, want %v", i, p[0][i], p[1][i])
			}
		}
	}
	// Today's writer keeps version 1 and the layout; only the meta block
	// spells the firing definition "firing" (it said "topk_firing"): the
	// bodies are byte for byte the same, and what it writes reads back.
	var buf bytes.Buffer
	if err := WriteRNN(&buf, want, fixtureInfo); err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile("testdata/v1.rnn")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(old, []byte(`"topk_firing":true`)) || !bytes.Contains(buf.Bytes(), []byte(`"firing":"topk"`)) {
		t.Fatalf("meta blocks: old %q..., new %q...", old[:min(len(old), 200)], buf.Bytes()[:min(buf.Len(), 200)])
	}
	const bodyTail = 8*(5*3+5*5+2*5+5+2) + 5*3 + 5*5 + 4 // floats, masks, CRC
	if !bytes.Equal(buf.Bytes()[buf.Len()-bodyTail:buf.Len()-4], old[len(old)-bodyTail:len(old)-4]) {
		t.Fatal("WriteRNN's body differs from the version 1 file's")
	}
	back, _, err := ReadRNN(&buf, "rewritten")
	if err != nil {
		t.Fatal(err)
	}
	if back.RNNConfig != want.RNNConfig || !slices.Equal(back.W, want.W) || !slices.Equal(back.U, want.U) {
		t.Fatalf("rewritten file reads back as %+v", back.RNNConfig)
	}
}
