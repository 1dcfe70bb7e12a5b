//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/plasticity-lab/plastic/run"
)

// orphansOf lists the processes whose parent is this process and whose
// command line mentions marker (the orphans this process adopted as a
// subreaper).
func orphansOf(marker string) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
		f := strings.Fields(rest)
		if len(f) < 2 || f[1] != strconv.Itoa(os.Getpid()) || f[0] == "Z" {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if strings.Contains(string(cmdline), marker) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Case 3: the cells of a sweep killed with SIGKILL die with it (they stop
// as interrupted runs) instead of training on as orphans.
func TestSweepCellsDieWithParent(t *testing.T) {
	// Orphans are re-parented to this process, so the test can find them
	// and end them by pid.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Skipf("cannot become a subreaper: %v", err)
	}
	defer unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
	t.Setenv(envChild, "")
	out := t.TempDir()
	sw := startCLI(t, "-q", "--out", out, "sweep", "--name", "S", "--dataset", "synthetic", "--epochs", "100000", "--batch-size", "64",
		"--optimizers", "adam", "--", "--n-train", "64", "--n-test", "32")
	cell := filepath.Join(out, "S", "adam-s1")
	waitFor(t, "the first epoch of the cell", hasMetrics(cell))
	holder, ok := run.Held(cell)
	if !ok {
		t.Fatal("the cell does not hold its run folder")
	}
	sw.Process.Signal(syscall.SIGKILL)
	sw.Wait()
	// The cell must end (it releases its folder's lock when it has saved
	// its record) instead of training on as an orphan.
	deadline := time.Now().Add(20 * time.Second)
	for _, still := run.Held(cell); still && time.Now().Before(deadline); _, still = run.Held(cell) {
		time.Sleep(20 * time.Millisecond)
	}
	if _, still := run.Held(cell); still {
		t.Errorf("cell process %d still running 20 s after its sweep was killed", holder.PID)
		syscall.Kill(holder.PID, syscall.SIGKILL)
	}
	// Reap the orphans this process adopted.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		left := orphansOf(out)
		if len(left) == 0 {
			break
		}
		for _, pid := range left {
			var ws syscall.WaitStatus
			syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
		}
	}
	if m := manifestOf(t, cell); m.Status != run.StatusInterrupted {
		b, _ := os.ReadFile(filepath.Join(out, "S", "logs", "adam-s1.log"))
		t.Errorf("cell status %s, want interrupted; cell log:\n%s", m.Status, b)
	}
}
