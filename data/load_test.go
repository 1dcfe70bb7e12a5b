package data

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadUnknownAndMissing(t *testing.T) {
	_, _, err := Load("imagenet", Options{})
	if err == nil || !strings.Contains(err.Error(), "halfspace") || !strings.Contains(err.Error(), "fashion-mnist") {
		t.Fatalf("unknown set: %v", err)
	}
	dir := t.TempDir()
	_, _, err = Load("fashion-mnist", Options{Dir: dir})
	want := filepath.Join(dir, "fashion-mnist", "train-images-idx3-ubyte.gz")
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "plastic data fetch fashion-mnist") {
		t.Fatalf("missing files: %v", err)
	}
}

func TestRegisterGenerator(t *testing.T) {
	RegisterGenerator("test-constant", func(o Options) (*Set, *Set, error) {
		s := &Set{Name: "test-constant", X: make([]float32, o.NTrain), Y: make([]int, o.NTrain), N: o.NTrain, Dim: 1, Classes: 2, Shape: []int{1}}
		return s, s, nil
	})
	found := false
	for _, n := range Names() {
		found = found || n == "test-constant"
	}
	if !found || !IsGenerated("test-constant") || IsGenerated("mnist") {
		t.Fatalf("names %v", Names())
	}
	tr, _, err := Load("Test-Constant", Options{NTrain: 7})
	if err != nil || tr.N != 7 {
		t.Fatalf("%v %v", tr, err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("registering a built-in name did not panic")
		}
	}()
	RegisterGenerator("mnist", nil)
}

func TestFindMNIST(t *testing.T) {
	real := goMNISTData(t)
	// From the module cache named by GOMODCACHE.
	t.Setenv("GOMODCACHE", filepath.Dir(filepath.Dir(filepath.Dir(filepath.Dir(real)))))
	dir, ok := FindMNIST(t.TempDir())
	if !ok || dir != real {
		t.Fatalf("FindMNIST = %q %v, want %q", dir, ok, real)
	}
	// dataDir/mnist wins when it has the four files.
	dataDir := t.TempDir()
	local := filepath.Join(dataDir, "mnist")
	os.MkdirAll(local, 0o755)
	for _, f := range []string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte.gz"} {
		os.WriteFile(filepath.Join(local, f), nil, 0o644)
	}
	if dir, ok := FindMNIST(dataDir); !ok || dir != local {
		t.Fatalf("FindMNIST = %q %v, want %q", dir, ok, local)
	}
	// Nowhere.
	t.Setenv("GOMODCACHE", t.TempDir())
	if _, ok := FindMNIST(t.TempDir()); ok {
		t.Fatal("found MNIST in empty folders")
	}
}

func TestLoadMNISTHead(t *testing.T) {
	goMNISTData(t)
	train, test, err := Load("mnist", Options{Dir: t.TempDir(), NTrain: 100, NTest: 50})
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 100 || len(train.X) != 100*784 || test.N != 50 || train.Shape[1] != 28 {
		t.Fatalf("train %d test %d", train.N, test.N)
	}
	// MNIST's first training labels are 5 0 4 1 9.
	for i, want := range []int{5, 0, 4, 1, 9} {
		if train.Y[i] != want {
			t.Fatalf("label %d = %d, want %d", i, train.Y[i], want)
		}
	}
}
