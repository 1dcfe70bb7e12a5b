package run

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLockOneWriter(t *testing.T) {
	root := t.TempDir()
	r, err := Create(root, Manifest{ID: "a", Command: "train"})
	if err != nil {
		t.Fatal(err)
	}
	// A second writer (another open file description, as another process
	// has) is refused, naming the holder.
	_, err = Reopen(r.Dir)
	var iu *InUseError
	if !errors.As(err, &iu) || !errors.Is(err, ErrInUse) || iu.Holder.PID != os.Getpid() ||
		!strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) || !strings.Contains(err.Error(), "started") {
		t.Fatalf("second writer: %v", err)
	}
	if h, ok := Held(r.Dir); !ok || h.PID != os.Getpid() {
		t.Fatalf("Held = %+v %v", h, ok)
	}
	if err := r.Finish(nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := Held(r.Dir); ok {
		t.Fatal("held after Finish")
	}
	r2, err := Reopen(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LockDir(r.Dir); !errors.Is(err, ErrInUse) {
		t.Fatalf("LockDir while reopened: %v", err)
	}
	r2.Close()
	l, err := LockDir(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	l.Unlock()
	l.Unlock() // twice is fine
}

func TestRewind(t *testing.T) {
	r, err := Create(t.TempDir(), Manifest{ID: "a"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for e := 1; e <= 4; e++ {
		r.AppendMetrics(map[string]float64{"epoch": float64(e), "x": float64(10 * e)})
	}
	if n, err := r.Rewind(3); err != nil || n != 2 {
		t.Fatalf("Rewind(3) = %d, %v", n, err)
	}
	ms, _ := r.Metrics()
	if len(ms) != 2 || ms[1]["epoch"] != 2 || r.LastMetrics()["x"] != 20 {
		t.Fatalf("after rewind %v, last %v", ms, r.LastMetrics())
	}
	if n, err := r.Rewind(1); err != nil || n != 2 || r.LastMetrics() == nil || len(r.LastMetrics()) != 0 {
		t.Fatalf("Rewind(1) = %d, %v, last %v", n, err, r.LastMetrics())
	}
	if b, _ := os.ReadFile(r.Path(MetricsFile)); len(b) != 0 {
		t.Fatalf("metrics left %q", b)
	}
}

func TestUntouchedDiscard(t *testing.T) {
	root := t.TempDir()
	r, _ := Create(root, Manifest{ID: "a"})
	if !r.Untouched() {
		t.Fatal("a new run is untouched")
	}
	if err := r.Discard(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "a")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("folder left: %v", err)
	}
	r, _ = Create(root, Manifest{ID: "b"})
	os.WriteFile(r.Path("rules.json"), []byte("{}"), 0o644)
	if r.Untouched() {
		t.Fatal("a run with a file is not untouched")
	}
	r.Close()
	r, _ = Create(root, Manifest{ID: "c"})
	r.OnStart(nil)
	if r.Untouched() {
		t.Fatal("a started run is not untouched")
	}
	r.Close()
	// A reopened run (to resume it) is never removed.
	r, _ = Create(root, Manifest{ID: "d"})
	r.Close()
	r2, err := Reopen(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if r2.Untouched() || r2.Discard() == nil {
		t.Fatal("a reopened run counts as untouched")
	}
	r2.Close()
	if _, err := os.Stat(r.Dir); err != nil {
		t.Fatal(err)
	}
}

// The resumption is recorded even when the manifest still says running
// (the process was killed with SIGKILL).
func TestReopenRecordsResume(t *testing.T) {
	r, _ := Create(t.TempDir(), Manifest{ID: "a"})
	r.Close() // killed: status running, lock released by the kernel
	r2, err := Reopen(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	r2.OnStart(nil)
	r2.OnStart(nil) // one resumption, however often OnStart runs
	r2.Finish(nil)
	if m := readManifest(t, r2); len(m.Resumed) != 1 || time.Since(m.Resumed[0]) > time.Minute {
		t.Fatalf("resumed %v", m.Resumed)
	}
}
