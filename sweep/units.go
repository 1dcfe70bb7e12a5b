package sweep

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"

	"github.com/plasticity-lab/plastic/plasticity"
	"github.com/plasticity-lab/plastic/run"
)

// UnitsFile lists an experiment's units in a units folder (units.json).
const UnitsFile = "units.json"

// UnitsMode is what a process does with an experiment's units (see Units).
type UnitsMode string

// The modes of Units, in the order of the Slurm jobs of an experiment.
const (
	// UnitsPlan lists the units: no rule is learned (a placeholder rule
	// set stands in), no result computed. The submitter runs it.
	UnitsPlan UnitsMode = "plan"
	// UnitsPrepare learns and stores the rule sets (the prepare job).
	UnitsPrepare UnitsMode = "prepare"
	// UnitsTask computes and stores one result, Index of units.json's
	// results (an array task); rules are read from the store.
	UnitsTask UnitsMode = "task"
	// UnitsCollect reads every rule set and result from the store (the
	// collect job, which writes the experiment's tables and figures).
	UnitsCollect UnitsMode = "collect"
)

// UnitsList is units.json.
type UnitsList struct {
	Rules   []string `json:"rules"`
	Results []string `json:"results"` // array task i computes Results[i]
}

// Units is an experiments.Cells that keeps each unit in a folder, so that
// an experiment's units run as separate Slurm jobs: the rule sets (one
// prepare job), each result (one array task each), then the whole
// experiment again reading them all (the collect job). Results are stored
// as JSON (float64s read back exactly) and rule sets as rule files, so the
// collect job writes the same tables as a local run.
type Units struct {
	Dir   string
	Mode  UnitsMode
	Index int // UnitsTask: the result to compute

	mu      sync.Mutex
	list    UnitsList // UnitsPlan: recorded; UnitsTask: read
	learned int       // UnitsPrepare: rule sets learned here
}

var unitsModes = []UnitsMode{UnitsPlan, UnitsPrepare, UnitsTask, UnitsCollect}

// NewUnits opens the units folder dir in mode (UnitsTask reads
// units.json to find its unit).
func NewUnits(dir string, mode UnitsMode, index int) (*Units, error) {
	if !slices.Contains(unitsModes, mode) {
		return nil, fmt.Errorf("units mode %q: want plan, prepare, task or collect", mode)
	}
	u := &Units{Dir: dir, Mode: mode, Index: index}
	if mode == UnitsTask {
		l, err := ReadUnits(dir)
		if err != nil {
			return nil, err
		}
		if index < 0 || index >= len(l.Results) {
			return nil, fmt.Errorf("unit %d: %s lists %d results", index, filepath.Join(dir, UnitsFile), len(l.Results))
		}
		u.list = l
	}
	return u, nil
}

// ReadUnits reads dir/units.json.
func ReadUnits(dir string) (UnitsList, error) {
	var l UnitsList
	b, err := os.ReadFile(filepath.Join(dir, UnitsFile))
	if err != nil {
		return l, err
	}
	if err := json.Unmarshal(b, &l); err != nil {
		return l, fmt.Errorf("%s: %w", filepath.Join(dir, UnitsFile), err)
	}
	return l, nil
}

// List is what a plan recorded: the rule and result keys, sorted.
func (u *Units) List() UnitsList {
	u.mu.Lock()
	defer u.mu.Unlock()
	l := UnitsList{Rules: slices.Clone(u.list.Rules), Results: slices.Clone(u.list.Results)}
	slices.Sort(l.Rules)
	slices.Sort(l.Results)
	return l
}

// WriteList writes units.json.
func (u *Units) WriteList(l UnitsList) error {
	b, _ := json.MarshalIndent(l, "", "  ")
	return run.WriteFileAtomic(filepath.Join(u.Dir, UnitsFile), append(b, '\n'))
}

var unsafeKey = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// file is the store's file of a key: readable, and unique by a hash.
func (u *Units) file(key, ext string) string {
	h := sha256.Sum256([]byte(key))
	return filepath.Join(u.Dir, "store", unsafeKey.ReplaceAllString(key, "_")+"-"+hex.EncodeToString(h[:4])+ext)
}

func (u *Units) record(list *[]string, key string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if !slices.Contains(*list, key) {
		*list = append(*list, key)
	}
}

// Rules gives the rule set of unit key (see the modes).
func (u *Units) Rules(key string, learn func() (*plasticity.RuleSet, error)) (*plasticity.RuleSet, error) {
	path := u.file(key, ".rules.json")
	switch u.Mode {
	case UnitsPlan:
		u.record(&u.list.Rules, key)
		return plasticity.Builtin("perceptron")
	case UnitsPrepare:
		if _, err := os.Stat(path); err == nil {
			return plasticity.LoadRules(path)
		}
		rs, err := learn()
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, err
		}
		if err := plasticity.SaveRules(path, rs); err != nil {
			return nil, err
		}
		u.mu.Lock()
		u.learned++
		u.mu.Unlock()
		// What the other jobs will read, exactly.
		return plasticity.LoadRules(path)
	}
	rs, err := plasticity.LoadRules(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("unit %q: no rule file in %s (did the prepare job fail? see its log)", key, filepath.Dir(path))
	}
	return rs, err
}

// Result sets *out to the result of unit key (see the modes).
func (u *Units) Result(key string, out any, compute func() (any, error)) error {
	path := u.file(key, ".json")
	switch u.Mode {
	case UnitsPlan:
		u.record(&u.list.Results, key)
		return nil
	case UnitsPrepare:
		return nil
	case UnitsTask:
		if key != u.list.Results[u.Index] {
			return nil
		}
		v, err := compute()
		if err != nil {
			return err
		}
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("unit %q: %w", key, err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := run.WriteFileAtomic(path, b); err != nil {
			return err
		}
		return json.Unmarshal(b, out)
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("unit %q has no result in %s (its array task failed or did not run; see the logs there)", key, filepath.Dir(path))
	}
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// Computed reports whether a task computed its unit (a task whose unit
// the experiment never asked for ran with other settings than the plan).
func (u *Units) Computed() bool {
	if u.Mode != UnitsTask {
		return true
	}
	_, err := os.Stat(u.file(u.list.Results[u.Index], ".json"))
	return err == nil
}
