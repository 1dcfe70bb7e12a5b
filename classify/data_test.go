package classify

import (
	"slices"
	"strings"
	"testing"
)

func TestLoadDataSynthetic(t *testing.T) {
	tr, te, idx, err := LoadData(DataOptions{Dataset: "synthetic", Model: "mlp", Fraction: 0.25, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if tr.N != 512 || te.N != 512 || !slices.Equal(tr.Shape, []int{1, 28, 28}) || len(idx) != 512 {
		t.Errorf("train %d %v, test %d, %d indices; want 512 of [1 28 28], 512, 512", tr.N, tr.Shape, te.N, len(idx))
	}
	tr2, _, _, err := LoadData(DataOptions{Dataset: "synthetic", Model: "cnn", NTrain: 10, NTest: 5, Fraction: 1, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if tr2.N != 10 || !slices.Equal(tr2.Shape, []int{3, 32, 32}) {
		t.Errorf("cnn synthetic: %d of %v", tr2.N, tr2.Shape)
	}
	again, _, _, _ := LoadData(DataOptions{Dataset: "synthetic", Model: "cnn", NTrain: 10, NTest: 5, Fraction: 1, Seed: 3})
	if !slices.Equal(again.X, tr2.X) || !slices.Equal(again.Y, tr2.Y) {
		t.Error("same seed, different data")
	}
	if _, _, _, err := LoadData(DataOptions{Dataset: "imagenet", Fraction: 1}); err == nil || !strings.Contains(err.Error(), "imagenet") {
		t.Errorf("unknown data set: %v", err)
	}
}
