package main

import (
	"strings"
	"testing"
)

// runPlastic runs the real app and returns its output.
func runPlastic(t *testing.T, args ...string) (string, error) {
	t.Helper()
	app := newApp()
	var out strings.Builder
	app.Writer = &out
	app.ErrWriter = &out
	err := app.Run(append([]string{"plastic"}, args...))
	return out.String(), err
}

func TestDataInfo(t *testing.T) {
	out, err := runPlastic(t, "-q", "data", "info", "--dataset", "halfspace", "--n-train", "300", "--n-test", "200")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"dataset  halfspace (seed 1)", "train    300 examples", "test     200 examples", "2 classes", "sha256 "} {
		if !strings.Contains(out, want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}
	// Same seed, same checksum; another seed, another one.
	again, _ := runPlastic(t, "-q", "data", "info", "--dataset", "halfspace", "--n-train", "300", "--n-test", "200")
	other, _ := runPlastic(t, "-q", "--seed", "2", "data", "info", "--dataset", "halfspace", "--n-train", "300", "--n-test", "200")
	if again != out || other == out {
		t.Fatal("checksums do not follow the seed")
	}
}

func TestDataInfoMNIST(t *testing.T) {
	// Without --data-dir: ./datasets/mnist does not exist here, so the
	// GoMNIST module's copy is read (a --data-dir the user names must hold
	// the files itself).
	out, err := runPlastic(t, "-q", "data", "info", "--dataset", "mnist", "--json")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"n": 60000`, `"n": 10000`, `"dim": 784`} {
		if !strings.Contains(out, want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestDataErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"data", "info", "--dataset", "imagenet"}, "valid names: mnist, fashion-mnist"},
		{[]string{"data", "info"}, "--dataset is required"},
		{[]string{"--data-dir", dir, "data", "info", "--dataset", "fashion-mnist"}, "plastic data fetch fashion-mnist"},
		{[]string{"--data-dir", dir, "data", "verify", "cifar10"}, "data verify: 1 data set(s) failed"},
		{[]string{"data", "fetch", "halfspace"}, "cannot be fetched"},
		{[]string{"data", "info", "--dataset", "halfspace", "--noise", "2"}, "label noise 2"},
	}
	for _, tc := range cases {
		_, err := runPlastic(t, append([]string{"-q"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
	}
}

func TestDataListAndVerify(t *testing.T) {
	dir := t.TempDir()
	out, err := runPlastic(t, "--data-dir", dir, "data", "list")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"halfspace", "relu2", "missing: plastic data fetch cifar10"} {
		if !strings.Contains(out, want) {
			t.Fatalf("list lacks %q:\n%s", want, out)
		}
	}
	// MNIST from the GoMNIST module verifies (no --data-dir named); the
	// others have no files.
	out, err = runPlastic(t, "data", "verify")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if strings.Count(out, "ok    ") != 4 || !strings.Contains(out, "cifar10: no files") {
		t.Fatalf("verify output:\n%s", out)
	}
}

// TestRNNLabelledOffered: plastic registers models' generated set
// explicitly, before its commands list the data sets in their usage.
func TestRNNLabelledOffered(t *testing.T) {
	out, err := runPlastic(t, "data", "list")
	if err != nil || !strings.Contains(out, "rnn-labelled") {
		t.Fatalf("data list: %v\n%s", err, out)
	}
	out, err = runPlastic(t, "rule", "learn", "--help")
	if err != nil || !strings.Contains(out, "rnn-labelled") {
		t.Fatalf("rule learn --help does not offer rnn-labelled: %v\n%s", err, out)
	}
	out, err = runPlastic(t, "data", "info", "--dataset", "rnn-labelled", "--n-train", "50", "--n-test", "20")
	if err != nil || !strings.Contains(out, "rnn-labelled") {
		t.Fatalf("data info rnn-labelled: %v\n%s", err, out)
	}
}
