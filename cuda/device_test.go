package cuda

import (
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	t.Setenv(EnvEmulator, "")
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

// With PLASTIC_DEVICE_EMULATOR=1 auto and cuda pick the emulator, recorded
// as itself (never as a GPU); cpu stays the CPU.
func TestResolveEmulator(t *testing.T) {
	t.Setenv(EnvEmulator, "1")
	for _, want := range []string{"auto", "cuda"} {
		d, note, err := Resolve(want)
		if err != nil || d != Emulator || !d.Kernels() || !strings.Contains(note, "emulator") {
			t.Fatalf("%s: %v %q %v", want, d, note, err)
		}
	}
	if d, _, err := Resolve("cpu"); err != nil || d != CPU || d.Kernels() {
		t.Fatalf("cpu: %v %v", d, err)
	}
}
