package main

import (
	"strings"
	"testing"
)

// TestRoundsOutOfRange: a T outside 1..8 on any command that widens a
// built-in T=1 rule is a clear error naming the value (it used to panic on
// a negative shift for --rounds -1 and run out of memory for --rounds 40).
func TestRoundsOutOfRange(t *testing.T) {
	for _, rounds := range []string{"-1", "9", "40"} {
		for _, args := range [][]string{
			{"rule", "train", "--rules", "perceptron", "--n-train", "50", "--n-test", "20"},
			{"rule", "train", "--rules", "multiplicative-weights", "--n-train", "50", "--n-test", "20"},
			{"attack", "--rules", "perceptron", "--n-train", "50", "--n-test", "20"},
			{"rule", "learn", "--init", "perceptron", "--n-train", "50", "--n-test", "20"},
			{"rule", "learn", "--n-train", "50", "--n-test", "20"},
		} {
			args = append(args, "--rounds", rounds)
			out, err := runRule(t, args...)
			if err == nil || !strings.Contains(err.Error(), "T = "+rounds) {
				t.Errorf("%v: error %v, want one naming T = %s\n%s", args, err, rounds, out)
			}
		}
	}
}
