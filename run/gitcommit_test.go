package run

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Case 13: outside the repository, and without build information (go test
// and -buildvcs=false binaries have none), the commit comes from the source
// folder, else it is "unknown", never empty.
func TestGitCommitOutsideTheRepo(t *testing.T) {
	t.Chdir(t.TempDir())
	got := GitCommit()
	if got == "" {
		t.Fatal("GitCommit is empty")
	}
	_, file, _, _ := runtime.Caller(0)
	src := filepath.Dir(filepath.Dir(file))
	want, err := exec.Command("git", "-C", src, "rev-parse", "HEAD").Output()
	if err != nil {
		if got != "unknown" {
			t.Fatalf("no git repository at %s, GitCommit = %q, want unknown", src, got)
		}
		return
	}
	if !strings.HasPrefix(got, strings.TrimSpace(string(want))) {
		t.Fatalf("GitCommit = %q, want %s (the commit of %s)", got, want, src)
	}
}
