package data

import (
	"strings"
	"testing"
)

// TestRNNLabelledNeedsItsGenerator: package data cannot label the
// RNN-labelled set itself (a simple RNN of package models does); without
// models.RegisterDataSets in the program, Load says so instead of calling
// the name unknown. (This test binary does not link package models.)
func TestRNNLabelledNeedsItsGenerator(t *testing.T) {
	_, _, err := Load("rnn-labelled", Options{NTrain: 10, NTest: 10})
	if err == nil || !strings.Contains(err.Error(), "models.RegisterDataSets") {
		t.Fatalf("Load(rnn-labelled) without its generator: %v", err)
	}
	if IsGenerated("rnn-labelled") {
		t.Fatalf("rnn-labelled counts as generated before its generator is registered")
	}
}
