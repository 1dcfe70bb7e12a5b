package data

import (
	"math/rand"
	"testing"
)

func tiny() *Set {
	// 4 examples of 2 channels x 1 x 2 pixels.
	return &Set{Name: "tiny", N: 4, Dim: 4, Classes: 2, Shape: []int{2, 1, 2},
		X: []float32{0, 0.5, 1, 1, 0.25, 0.75, 0, 0.5, 1, 1, 1, 1, 0, 0, 0, 0},
		Y: []int{0, 1, 1, 1}}
}

func TestStandardizeAndNormalize(t *testing.T) {
	s := tiny()
	Standardize(s, 0.5, 0.5)
	want := []float32{-1, 0, 1, 1, -0.5, 0.5, -1, 0}
	for i, w := range want {
		if s.X[i] != w {
			t.Fatalf("standardized %v, want %v", s.X[:8], want)
		}
	}
	s = tiny()
	if err := NormalizeChannels(s, []float32{0.5, 0}, []float32{0.25, 2}); err != nil {
		t.Fatal(err)
	}
	// Example 0: channel 0 (0, 0.5) -> (-2, 0); channel 1 (1, 1) -> (0.5, 0.5).
	want = []float32{-2, 0, 0.5, 0.5}
	for i, w := range want {
		if s.X[i] != w {
			t.Fatalf("normalized %v, want %v", s.X[:4], want)
		}
	}
	if err := NormalizeChannels(s, []float32{0}, []float32{1}); err == nil {
		t.Fatal("wrong channel count accepted")
	}
}

func TestSubsetAndFraction(t *testing.T) {
	s, _, _ := Halfspace(Options{Seed: 1, NTrain: 1000, NTest: 1})
	a, ia := Subset(s, 100, rand.New(rand.NewSource(9)))
	b, ib := Subset(s, 100, rand.New(rand.NewSource(9)))
	if Checksum(a) != Checksum(b) || len(ia) != 100 {
		t.Fatal("same rng seed, different subsets")
	}
	for k := range ia {
		if ia[k] != ib[k] || (k > 0 && ia[k] <= ia[k-1]) {
			t.Fatalf("indices not increasing and unique: %v", ia)
		}
		if a.Y[k] != s.Y[ia[k]] || a.Row(k)[3] != s.Row(ia[k])[3] {
			t.Fatalf("example %d is not s[%d]", k, ia[k])
		}
	}
	c, _ := Subset(s, 100, rand.New(rand.NewSource(10)))
	if Checksum(c) == Checksum(a) {
		t.Fatal("other seed, same subset")
	}
	f, idx, err := Fraction(s, 0.25, rand.New(rand.NewSource(1)))
	if err != nil || f.N != 250 || len(idx) != 250 {
		t.Fatalf("fraction: %d %v", f.N, err)
	}
	for _, bad := range []float64{0, -0.1, 1.5} {
		if _, _, err := Fraction(s, bad, rand.New(rand.NewSource(1))); err == nil {
			t.Fatalf("fraction %v accepted", bad)
		}
	}
}

func TestClassCountsAndChecksum(t *testing.T) {
	s := tiny()
	c := ClassCounts(s)
	if c[0] != 1 || c[1] != 3 {
		t.Fatalf("counts %v", c)
	}
	sum := Checksum(s)
	if len(sum) != 64 || sum != Checksum(tiny()) {
		t.Fatal("checksum not stable")
	}
	s.X[5] += 1e-7
	if Checksum(s) == sum {
		t.Fatal("checksum ignores a feature change")
	}
	s = tiny()
	s.Y[0] = 1
	if Checksum(s) == sum {
		t.Fatal("checksum ignores a label change")
	}
}
