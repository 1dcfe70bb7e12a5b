// Package run keeps the record of one run of a command that trains or
// evaluates: a folder <out>/<run-id>/ holding manifest.json (what ran, with
// which flags, seed, code version and device, and how it ended),
// metrics.jsonl (one JSON object per evaluation, appended a line at a time)
// and summary.json (the final figures). Every file is written atomically,
// so a crash or Ctrl-C never leaves a half-written record. A Run is a hook
// of train.Run.
package run

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/plasticity-lab/plastic/internal/atomicfile"
	"github.com/plasticity-lab/plastic/train"
)

// Status of a run.
const (
	StatusRunning     = "running"
	StatusDone        = "done"
	StatusInterrupted = "interrupted"
	StatusFailed      = "failed"
)

// File names inside a run folder.
const (
	ManifestFile = "manifest.json"
	MetricsFile  = "metrics.jsonl"
	SummaryFile  = "summary.json"
)

// Manifest says what ran and how it ended.
type Manifest struct {
	ID        string         `json:"id"`
	Command   string         `json:"command"`
	Args      []string       `json:"args"`  // the command line
	Flags     map[string]any `json:"flags"` // every flag of the command and the globals, final values
	Seed      int64          `json:"seed"`
	GoVersion string         `json:"go_version"`
	GitCommit string         `json:"git_commit"`
	Device    string         `json:"device"`
	Start     time.Time      `json:"start"`
	End       *time.Time     `json:"end,omitempty"`
	Resumed   []time.Time    `json:"resumed,omitempty"`
	// Changes lists the flags changed when the run was resumed (only
	// changes that keep the run one run, such as more epochs).
	Changes []Change `json:"changes,omitempty"`
	Status  string   `json:"status"`
	Error   string   `json:"error,omitempty"`
}

// Change is a flag changed on resume.
type Change struct {
	Time time.Time `json:"time"`
	Flag string    `json:"flag"`
	From string    `json:"from"`
	To   string    `json:"to"`
}

// Run is an open run folder.
type Run struct {
	Dir      string
	Manifest Manifest
	// Summary is filled by the command; OnFinish/Finish writes it to
	// summary.json together with the status and the last metrics line.
	Summary map[string]any

	mu   sync.Mutex
	last map[string]float64
	// lock is held by a writer (Create, Reopen) until Finish or Close.
	lock *Lock
	// reopened: OnStart records a resumption.
	reopened bool
	// started: the run began its work (OnStart, a metrics line or a file).
	started bool
	// created: this Run made its folder (Create), so Discard may remove it.
	created bool
}

// Create makes the folder root/m.ID (which must not exist yet), takes its
// lock (held until Finish or Close), fills in the Go version, git commit
// and start time when empty, and writes the manifest with status running.
func Create(root string, m Manifest) (*Run, error) {
	if m.ID == "" || strings.ContainsAny(m.ID, `/\`) || m.ID == "." || m.ID == ".." {
		return nil, fmt.Errorf("run id %q: want a plain folder name", m.ID)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	dir := filepath.Join(root, m.ID)
	if err := os.Mkdir(dir, 0o755); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("run folder %s: %w (choose another id)", dir, os.ErrExist)
		}
		return nil, err
	}
	lock, err := LockDir(dir)
	if err != nil {
		// Someone took the folder between its creation and our lock.
		return nil, err
	}
	if m.GoVersion == "" {
		m.GoVersion = runtime.Version()
	}
	if m.GitCommit == "" {
		m.GitCommit = GitCommit()
	}
	if m.Start.IsZero() {
		m.Start = time.Now().UTC()
	}
	if m.Flags == nil {
		m.Flags = map[string]any{}
	}
	m.Status = StatusRunning
	r := &Run{Dir: dir, Manifest: m, Summary: map[string]any{}, lock: lock, created: true}
	if err := r.WriteManifest(); err != nil {
		lock.Unlock()
		return nil, err
	}
	return r, nil
}

// Reopen opens an existing run folder to write into it (to resume it): it
// takes the folder's lock (an *InUseError naming the holder when another
// process writes there), then reads it as Open does. The lock is held
// until Finish or Close; the next OnStart records the resumption.
func Reopen(dir string) (*Run, error) {
	if _, err := os.Stat(filepath.Join(dir, ManifestFile)); err != nil {
		return nil, fmt.Errorf("open run: %w", err)
	}
	lock, err := LockDir(dir)
	if err != nil {
		return nil, err
	}
	r, err := Open(dir)
	if err != nil {
		lock.Unlock()
		return nil, err
	}
	r.lock, r.reopened = lock, true
	return r, nil
}

// Close releases the run folder's lock without finishing the run (a
// refused resume); Finish releases it too.
func (r *Run) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	err := r.lock.Unlock()
	r.lock = nil
	return err
}

// Untouched reports whether the run was made by Create in this process
// and has done nothing yet: no OnStart, no metrics line, and no file in its
// folder but the manifest (and lock). A reopened run is never untouched.
func (r *Run) Untouched() bool {
	r.mu.Lock()
	started := r.started || r.last != nil || !r.created
	r.mu.Unlock()
	if started {
		return false
	}
	ents, err := os.ReadDir(r.Dir)
	if err != nil {
		return false
	}
	for _, e := range ents {
		if n := e.Name(); n != ManifestFile && n != LockFile {
			return false
		}
	}
	return true
}

// Discard removes the folder of a run that did nothing (see Untouched),
// then releases its lock: a command that failed before it began leaves no
// folder behind.
func (r *Run) Discard() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.created {
		return fmt.Errorf("run %s: not made by this process, not removed", r.Dir)
	}
	err := os.RemoveAll(r.Dir)
	if uerr := r.lock.Unlock(); err == nil {
		err = uerr
	}
	r.lock = nil
	return err
}

// Open reads an existing run folder: the manifest and the metrics written
// so far. It takes no lock (readers need none); a writer uses Reopen.
func Open(dir string) (*Run, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, fmt.Errorf("open run: %w", err)
	}
	r := &Run{Dir: dir, Summary: map[string]any{}}
	if err := json.Unmarshal(b, &r.Manifest); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ManifestFile), err)
	}
	ms, err := r.Metrics()
	if err != nil {
		return nil, err
	}
	if len(ms) > 0 {
		r.last = ms[len(ms)-1]
	}
	if b, err := os.ReadFile(filepath.Join(dir, SummaryFile)); err == nil {
		var s map[string]any
		if json.Unmarshal(b, &s) == nil {
			delete(s, "status")
			delete(s, "last_metrics")
			r.Summary = s
		}
	}
	return r, nil
}

// Path is the path of a file in the run folder (indices, checkpoints,
// plots, rule files).
func (r *Run) Path(name string) string { return filepath.Join(r.Dir, name) }

// WriteManifest writes manifest.json atomically.
func (r *Run) WriteManifest() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.writeManifestLocked()
}

func (r *Run) writeManifestLocked() error {
	b, err := json.MarshalIndent(r.Manifest, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(r.Path(ManifestFile), append(b, '\n'))
}

// WriteJSON writes v as indented JSON to the named file of the run, atomically.
func (r *Run) WriteJSON(name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(r.Path(name), append(b, '\n'))
}

// Rewind keeps the metrics lines of the epochs before epoch (the lines
// without an "epoch" too) and drops the rest, rewriting metrics.jsonl
// atomically: a resumed run that restarts at epoch writes those lines
// again. It returns how many lines it dropped.
func (r *Run) Rewind(epoch int) (int, error) {
	ms, err := r.Metrics()
	if err != nil {
		return 0, err
	}
	var keep []map[string]float64
	for _, m := range ms {
		if e, ok := m["epoch"]; !ok || e < float64(epoch) {
			keep = append(keep, m)
		}
	}
	dropped := len(ms) - len(keep)
	if dropped == 0 {
		return 0, nil
	}
	var buf bytes.Buffer
	for _, m := range keep {
		b, err := json.Marshal(encodeMetrics(m))
		if err != nil {
			return 0, err
		}
		buf.Write(append(b, '\n'))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := WriteFileAtomic(r.Path(MetricsFile), buf.Bytes()); err != nil {
		return 0, err
	}
	r.last = nil
	if len(keep) > 0 {
		r.last = copyMetrics(keep[len(keep)-1])
	}
	return dropped, nil
}

// AppendMetrics appends m as one line of metrics.jsonl (opened with
// O_APPEND, synced before returning). NaN and infinities, which JSON cannot
// hold, are written as the strings "NaN", "+Inf" and "-Inf" and read back
// as numbers by Metrics.
func (r *Run) AppendMetrics(m map[string]float64) error {
	b, err := json.Marshal(encodeMetrics(m))
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	f, err := os.OpenFile(r.Path(MetricsFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	r.last = copyMetrics(m)
	return nil
}

func copyMetrics(m map[string]float64) map[string]float64 {
	c := make(map[string]float64, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func encodeMetrics(m map[string]float64) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		switch {
		case math.IsNaN(v):
			out[k] = "NaN"
		case math.IsInf(v, 1):
			out[k] = "+Inf"
		case math.IsInf(v, -1):
			out[k] = "-Inf"
		default:
			out[k] = v
		}
	}
	return out
}

// Metrics reads metrics.jsonl back, one map per line (none when the file
// does not exist yet). A torn last line (a crash mid-write) is ignored.
func (r *Run) Metrics() ([]map[string]float64, error) {
	b, err := os.ReadFile(r.Path(MetricsFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	lines := bytes.Split(b, []byte("\n"))
	var out []map[string]float64
	for i, ln := range lines {
		if len(bytes.TrimSpace(ln)) == 0 {
			continue
		}
		var raw map[string]any
		if err := json.Unmarshal(ln, &raw); err != nil {
			if i == len(lines)-1 {
				break // a torn last line, without its newline
			}
			return nil, fmt.Errorf("%s:%d: %w", r.Path(MetricsFile), i+1, err)
		}
		m := make(map[string]float64, len(raw))
		for k, v := range raw {
			switch x := v.(type) {
			case float64:
				m[k] = x
			case string:
				switch x {
				case "NaN":
					m[k] = math.NaN()
				case "+Inf":
					m[k] = math.Inf(1)
				case "-Inf":
					m[k] = math.Inf(-1)
				}
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// LastMetrics is the last metrics line written (or read by Open).
func (r *Run) LastMetrics() map[string]float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return copyMetrics(r.last)
}

// OnStart marks the run running; a resumed run (Reopen, or a run whose
// manifest says it ended) records when it resumed.
func (r *Run) OnStart(*train.State) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.reopened || r.Manifest.Status != StatusRunning {
		r.Manifest.Resumed = append(r.Manifest.Resumed, time.Now().UTC())
		r.reopened = false
	}
	r.started = true
	r.Manifest.Status = StatusRunning
	r.Manifest.End = nil
	r.Manifest.Error = ""
	return r.writeManifestLocked()
}

// OnEpochEnd appends the epoch's metrics as a line of metrics.jsonl.
func (r *Run) OnEpochEnd(s *train.State) error { return r.AppendMetrics(s.EpochMetrics) }

// OnFinish records how train.Run ended (see Finish).
func (r *Run) OnFinish(_ *train.State, err error) error { return r.Finish(err) }

// Finish ends the run: status done (err nil), interrupted (err wraps
// train.ErrInterrupted) or failed with the error text; the end time; and
// summary.json holding r.Summary, the status and the last metrics line.
// It then releases the folder's lock. Commands that evaluate without
// train.Run call it themselves.
func (r *Run) Finish(err error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	defer func() {
		r.lock.Unlock()
		r.lock = nil
	}()
	now := time.Now().UTC()
	r.Manifest.End = &now
	switch {
	case err == nil:
		r.Manifest.Status, r.Manifest.Error = StatusDone, ""
	case errors.Is(err, train.ErrInterrupted):
		r.Manifest.Status, r.Manifest.Error = StatusInterrupted, err.Error()
	default:
		r.Manifest.Status, r.Manifest.Error = StatusFailed, err.Error()
	}
	if werr := r.writeManifestLocked(); werr != nil {
		return werr
	}
	sum := make(map[string]any, len(r.Summary)+2)
	for k, v := range r.Summary {
		sum[k] = v
	}
	sum["status"] = r.Manifest.Status
	if r.last != nil {
		sum["last_metrics"] = encodeMetrics(r.last)
	}
	b, merr := json.MarshalIndent(sum, "", "  ")
	if merr != nil {
		return fmt.Errorf("summary.json: %w", merr)
	}
	return WriteFileAtomic(r.Path(SummaryFile), append(b, '\n'))
}

// WriteFileAtomic writes data to path through a temporary file in the same
// folder, synced and renamed over path: readers see the old or the new
// content, never a part.
func WriteFileAtomic(path string, data []byte) error { return atomicfile.Write(path, data) }

var unsafeID = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// NewID makes a run id: the command (spaces as '-'), the UTC time to the
// second, the seed and 4 random hex digits, e.g.
// "rule-train-20261123T084501Z-s1-3fa2".
func NewID(command string, t time.Time, seed int64) string {
	var b [2]byte
	rand.Read(b[:])
	cmd := strings.Trim(unsafeID.ReplaceAllString(strings.ReplaceAll(command, " ", "-"), "-"), "-")
	if cmd == "" {
		cmd = "run"
	}
	return fmt.Sprintf("%s-%s-s%d-%s", cmd, t.UTC().Format("20060102T150405Z"), seed, hex.EncodeToString(b[:]))
}

// GitCommit is the commit the binary was built from: build info
// vcs.revision (with "-dirty" when modified), else, for binaries built
// without it (-buildvcs=false, go test, go run), `git rev-parse HEAD` of the
// source folder this package was compiled from, when that folder is still a
// git checkout of this module (with "-dirty" when it has changes), else
// "unknown". The working folder plays no part: a binary run inside another
// repository must not report that repository's commit.
func GitCommit() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if rev != "" {
			if dirty {
				rev += "-dirty"
			}
			return rev
		}
	}
	if rev := sourceCommit(); rev != "" {
		return rev
	}
	return "unknown"
}

// sourceCommit is the commit of the module's source folder, or "".
func sourceCommit() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(file) {
		return "" // built with -trimpath
	}
	root := filepath.Dir(filepath.Dir(file))
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil || !bytes.HasPrefix(mod, []byte("module github.com/plasticity-lab/plastic\n")) {
		return ""
	}
	git, err := exec.LookPath("git")
	if err != nil {
		return ""
	}
	out, err := exec.Command(git, "-C", root, "rev-parse", "HEAD").Output()
	if err != nil {
		return ""
	}
	rev := strings.TrimSpace(string(out))
	if st, err := exec.Command(git, "-C", root, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
		rev += "-dirty"
	}
	return rev
}
