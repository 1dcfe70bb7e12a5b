package cuda

import (
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	if d, _, err := Resolve("cpu"); err != nil || d != CPU {
		t.Fatalf("cpu: %v %v", d, err)
	}
	if _, _, err := Resolve("tpu"); err == nil || !strings.Contains(err.Error(), "tpu") {
		t.Fatalf("bad value: %v", err)
	}
	d, note, err := Resolve("auto")
	if err != nil || note == "" {
		t.Fatalf("auto: %v %q", err, note)
	}
	if _, perr := probe(); perr != nil {
		if d != CPU {
			t.Fatalf("auto without a GPU chose %v", d)
		}
		if _, _, err := Resolve("cuda"); err == nil {
			t.Fatal("cuda without a GPU must fail")
		}
	}
}
