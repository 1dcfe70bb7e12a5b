package data

import (
	"math"
	"strings"
	"testing"
)

func TestHalfspace(t *testing.T) {
	o := Options{Seed: 3, NTrain: 2000, NTest: 500}
	train, test, err := Halfspace(o)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 2000 || test.N != 500 || train.Dim != 10 || train.Classes != 2 || train.Shape[0] != 10 {
		t.Fatalf("sizes %d %d %d", train.N, test.N, train.Dim)
	}
	// Recompute the halfspace from its stream and check every label.
	r := stream(3, "halfspace", "task")
	w := make([]float64, 10)
	for i := range w {
		w[i] = uniform(r)
	}
	b := uniform(r)
	for _, s := range []*Set{train, test} {
		for i := 0; i < s.N; i++ {
			v := b
			for j, x := range s.Row(i) {
				if x < -1 || x > 1 {
					t.Fatalf("point outside [-1,1]: %v", x)
				}
				v += w[j] * float64(x)
			}
			if want := map[bool]int{true: 1, false: 0}[v > 0]; s.Y[i] != want {
				t.Fatalf("example %d label %d, w.x+b = %v", i, s.Y[i], v)
			}
		}
	}
	// Same seed, same set; other seed, other set; NTrain does not change the test set.
	train2, test2, _ := Halfspace(Options{Seed: 3, NTrain: 100, NTest: 500})
	if Checksum(test2) != Checksum(test) || Checksum(train2) != Checksum(head(train, 100)) {
		t.Fatal("same seed gave different points")
	}
	other, _, _ := Halfspace(Options{Seed: 4, NTrain: 2000})
	if Checksum(other) == Checksum(train) {
		t.Fatal("other seed gave the same set")
	}
}

func TestLabelNoise(t *testing.T) {
	clean, _, _ := Halfspace(Options{Seed: 1})
	noisy, _, _ := Halfspace(Options{Seed: 1, Noise: 0.2})
	flips := 0
	for i := range clean.Y {
		if clean.Y[i] != noisy.Y[i] {
			flips++
		}
	}
	// 10,000 flips with p=0.2: mean 2000, sd 40.
	if math.Abs(float64(flips)-2000) > 200 {
		t.Fatalf("%d flips of 10000 at q=0.2", flips)
	}
	if _, _, err := Halfspace(Options{Noise: 1.5}); err == nil {
		t.Fatal("noise 1.5 accepted")
	}
}

func TestReLUSets(t *testing.T) {
	o := Options{Seed: 5, NTrain: 300, NTest: 100, Width: 50}
	r1, _, err := ReLU("relu1", o)
	if err != nil {
		t.Fatal(err)
	}
	r2, _, _ := ReLU("relu2", o)
	if Checksum(r1) == Checksum(r2) {
		t.Fatal("relu1 and relu2 are the same set")
	}
	again, _, _ := Load("relu1", o)
	if Checksum(again) != Checksum(r1) {
		t.Fatal("same seed gave a different relu1")
	}
	// Recompute the labels with the network drawn from the task stream.
	net := NewReLUNet(10, 50, stream(5, "relu1", "task"))
	x := make([]float64, 10)
	ones := 0
	for i := 0; i < r1.N; i++ {
		for j, v := range r1.Row(i) {
			x[j] = float64(v)
		}
		if net.Label(x) != r1.Y[i] {
			t.Fatalf("example %d label differs from the network's", i)
		}
		ones += r1.Y[i]
	}
	if ones == 0 || ones == r1.N {
		t.Fatalf("degenerate labels: %d ones of %d", ones, r1.N)
	}
	// Hand-checked network: W1 = [[1,0],[0,1],[1,1]], W2 = [[1,0,0],[0,1,1]].
	hn := &ReLUNet{Dim: 2, Width: 3, W1: []float64{1, 0, 0, 1, 1, 1}, W2: []float64{1, 0, 0, 0, 1, 1}}
	// x=(2,-1): h=(2,0,1); out=(2,1) -> 0. x=(-1,2): h=(0,2,1); out=(0,3) -> 1.
	if hn.Label([]float64{2, -1}) != 0 || hn.Label([]float64{-1, 2}) != 1 {
		t.Fatal("hand-checked ReLU net labels wrong")
	}
	// Points are uniform in [-1,1] by default (mean ~0, variance 1/3 over
	// 3000 values) and standard normal with PointsNormal; the labelling
	// network does not depend on how the points are drawn.
	stats := func(s *Set) (mean, variance, maxAbs float64) {
		var sum, sq float64
		for _, v := range s.X {
			sum += float64(v)
			sq += float64(v) * float64(v)
			maxAbs = math.Max(maxAbs, math.Abs(float64(v)))
		}
		n := float64(len(s.X))
		return sum / n, sq/n - (sum/n)*(sum/n), maxAbs
	}
	if m, v, mx := stats(r1); math.Abs(m) > 0.05 || math.Abs(v-1.0/3) > 0.03 || mx > 1 {
		t.Fatalf("inputs mean %v variance %v max |x| %v, want uniform in [-1,1]", m, v, mx)
	}
	o.Points = PointsNormal
	rn, _, err := ReLU("relu1", o)
	if err != nil {
		t.Fatal(err)
	}
	if m, v, mx := stats(rn); math.Abs(m) > 0.1 || math.Abs(v-1) > 0.1 || mx <= 1 {
		t.Fatalf("inputs mean %v variance %v max |x| %v, want N(0,1)", m, v, mx)
	}
	for i := 0; i < rn.N; i++ {
		for j, v := range rn.Row(i) {
			x[j] = float64(v)
		}
		if net.Label(x) != rn.Y[i] {
			t.Fatalf("normal points: example %d label differs from the same network's", i)
		}
	}
	o.Points = "gaussian"
	if _, _, err := ReLU("relu1", o); err == nil || !strings.Contains(err.Error(), "gaussian") {
		t.Fatalf("bad points name: %v", err)
	}
}

// TestReLUDefaults: without options the ReLU sets are the authors'
// generator: width 100, points in [-1,1]^10.
func TestReLUDefaults(t *testing.T) {
	tr, _, err := ReLU("relu1", Options{Seed: 2, NTrain: 500, NTest: 10})
	if err != nil {
		t.Fatal(err)
	}
	want, _, _ := ReLU("relu1", Options{Seed: 2, NTrain: 500, NTest: 10, Width: 100, Points: PointsUniform, Dim: 10})
	if tr.Dim != 10 || Checksum(tr) != Checksum(want) {
		t.Fatal("default relu1 is not width 100, uniform points, dimension 10")
	}
}
