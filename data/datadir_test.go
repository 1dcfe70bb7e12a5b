package data

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeMNIST writes a tiny MNIST-like folder: n training images of
// trainSide x trainSide and n test images of testSide x testSide.
func writeMNIST(t *testing.T, dir string, n, trainSide, testSide int) {
	t.Helper()
	os.MkdirAll(dir, 0o755)
	labels := make([]byte, n)
	for i := range labels {
		labels[i] = byte(i % 10)
	}
	files := map[string][]byte{
		"train-images-idx3-ubyte": encodeIDX([]int{n, trainSide, trainSide}, make([]byte, n*trainSide*trainSide)),
		"train-labels-idx1-ubyte": encodeIDX([]int{n}, labels),
		"t10k-images-idx3-ubyte":  encodeIDX([]int{n, testSide, testSide}, make([]byte, n*testSide*testSide)),
		"t10k-labels-idx1-ubyte":  encodeIDX([]int{n}, labels),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Case 9: a data folder the user named is the only place looked at; an
// incomplete one is an error naming what is missing; the files read are
// reported.
func TestMNISTDataDirStrict(t *testing.T) {
	defer func(v bool) { ModuleFallback = v }(ModuleFallback)
	empty := t.TempDir()
	ModuleFallback = false
	if _, _, err := Load("mnist", Options{Dir: empty}); err == nil || !strings.Contains(err.Error(), filepath.Join(empty, "mnist")) {
		t.Errorf("named empty folder: %v", err)
	}
	if _, ok := FindMNIST(empty); ok {
		t.Error("FindMNIST fell back to the module copy for a named folder")
	}
	part := t.TempDir()
	writeMNIST(t, filepath.Join(part, "mnist"), 3, 28, 28)
	os.Remove(filepath.Join(part, "mnist", "t10k-labels-idx1-ubyte"))
	for _, fb := range []bool{false, true} {
		ModuleFallback = fb
		if _, _, err := Load("mnist", Options{Dir: part}); err == nil || !strings.Contains(err.Error(), "t10k-labels-idx1-ubyte") {
			t.Errorf("incomplete folder (fallback %v): %v", fb, err)
		}
	}
	ok := t.TempDir()
	writeMNIST(t, filepath.Join(ok, "mnist"), 3, 28, 28)
	tr, te, err := Load("mnist", Options{Dir: ok})
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Files) != 2 || len(te.Files) != 2 || !strings.HasSuffix(te.Files[0], "t10k-images-idx3-ubyte") {
		t.Errorf("files %v %v", tr.Files, te.Files)
	}
}

// Case 9: test images of another shape than the training images are refused.
func TestMNISTTestShapeMustMatch(t *testing.T) {
	dir := t.TempDir()
	writeMNIST(t, filepath.Join(dir, "mnist"), 3, 28, 14)
	_, _, err := Load("mnist", Options{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "14") || !strings.Contains(err.Error(), "28") {
		t.Fatalf("mismatched shapes: %v", err)
	}
}
