// Package sweep owns grids of training runs: expansion of a grid
// (optimizers x optimizer-flag variants x learning rates x training
// fractions x seeds) into cells, local parallel execution with a jobs limit
// (each cell its own run folder; finished cells are skipped, interrupted
// ones resumed), and summaries: mean and spread over seeds of the final and
// best test accuracy per configuration, and seed-wise wins against a
// baseline configuration, as the NeuroPlastic paper reports its results.
//
// A sweep folder holds sweep.json (the grid and its cells), one run folder
// per cell (named by Cell.ID), logs/<cell>.log (each cell's output) and
// summary.csv.
package sweep

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/plasticity-lab/plastic/internal/param"
)

// Variant is a named set of optimizer (or other training) flags, e.g.
// "grad-only" with --np-mode=ablation_grad_only.
type Variant struct {
	Name  string   `json:"name"`
	Flags []string `json:"flags"` // "--flag=value" (or "--flag" for a boolean)
}

// Grid is a set of training runs: every combination of its axes. An empty
// axis (no optimizers, no variants, no learning rates, no fractions) adds no
// flag, leaving the value to Base or the training defaults; at least one
// optimizer or variant and at least one seed are required.
type Grid struct {
	Optimizers []string  `json:"optimizers,omitempty"`
	Variants   []Variant `json:"variants,omitempty"`
	LRs        []float64 `json:"lrs,omitempty"`
	Fractions  []float64 `json:"fractions,omitempty"`
	Seeds      []int64   `json:"seeds"`
	// Base flags are passed to every cell (model, data set, epochs...).
	Base []string `json:"base,omitempty"`
}

// Cell is one training run of a grid.
type Cell struct {
	// ID is the run folder's name: arm, then lrX, fX and sN as set.
	ID string `json:"id"`
	// Arm names the configuration: optimizer, variant, or both joined by '-'.
	Arm       string  `json:"arm"`
	Optimizer string  `json:"optimizer,omitempty"`
	Variant   string  `json:"variant,omitempty"`
	LR        float64 `json:"lr,omitempty"`       // 0: not set by the grid
	Fraction  float64 `json:"fraction,omitempty"` // 0: not set by the grid
	Seed      int64   `json:"seed"`
	// Args are the training flags of the cell (without the seed).
	Args []string `json:"args"`
}

// Flags owned by the sweep itself, which neither Base nor a variant may set.
var sweepOwned = []string{"seed", "seeds", "name", "resume", "out"}

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// flagName is the name of a "--name=value" argument ("" if it is not one).
func flagName(arg string) string {
	if !strings.HasPrefix(arg, "-") {
		return ""
	}
	n := strings.TrimLeft(arg, "-")
	n, _, _ = strings.Cut(n, "=")
	return n
}

// ParseVariant reads "name:--flag=v,--flag=v" (flags may also be separated
// by spaces). A bare "name:" is a variant without flags.
func ParseVariant(s string) (Variant, error) {
	name, rest, ok := strings.Cut(s, ":")
	name = strings.TrimSpace(name)
	if !ok {
		return Variant{}, param.Errorf("variant", "%q: want NAME:--flag=value,--flag=value", s)
	}
	if !validName.MatchString(name) {
		return Variant{}, param.Errorf("variant", "%q: name %q must be letters, digits, '.', '_' or '-'", s, name)
	}
	v := Variant{Name: name}
	for _, f := range strings.FieldsFunc(rest, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		if !strings.HasPrefix(f, "--") || len(f) < 3 {
			return Variant{}, param.Errorf("variant", "%q: %q is not a --flag=value", s, f)
		}
		v.Flags = append(v.Flags, f)
	}
	return v, nil
}

// JoinVariantArgs rebuilds variant specs from a list that a comma-splitting
// flag parser cut apart: an element starting with "--" continues the
// previous variant's flags, as does an "@file" item.
func JoinVariantArgs(parts []string) ([]string, error) {
	var out []string
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if strings.HasPrefix(p, "--") || strings.HasPrefix(p, "@") {
			if len(out) == 0 {
				return nil, param.Errorf("variant", "%q: want NAME:--flag=value,... (no name before the flags)", p)
			}
			out[len(out)-1] += "," + p
			continue
		}
		out = append(out, p)
	}
	return out, nil
}

// Expand lists the grid's cells: seeds outermost (so every configuration's
// first seed finishes early), then fractions, optimizers, variants and
// learning rates. It checks the grid: a configuration, unique and
// well-formed names, positive learning rates, fractions in (0,1], distinct
// seeds, and that no variant or base flag sets what an axis or the sweep
// sets.
func (g Grid) Expand() ([]Cell, error) {
	if len(g.Optimizers) == 0 && len(g.Variants) == 0 {
		return nil, errors.New("empty grid: give at least one optimizer or variant")
	}
	if len(g.Seeds) == 0 {
		return nil, errors.New("empty grid: no seeds")
	}
	if err := uniqueNames("optimizer", g.Optimizers); err != nil {
		return nil, err
	}
	var vnames []string
	for _, v := range g.Variants {
		vnames = append(vnames, v.Name)
	}
	if err := uniqueNames("variant", vnames); err != nil {
		return nil, err
	}
	for _, lr := range g.LRs {
		if !(lr > 0) || math.IsInf(lr, 0) {
			return nil, param.Errorf("lrs", "learning rate %v: want > 0", lr)
		}
	}
	if hasDup(g.LRs) {
		return nil, param.Errorf("lrs", "%v: a learning rate appears twice", g.LRs)
	}
	for _, f := range g.Fractions {
		if !(f > 0 && f <= 1) {
			return nil, param.Errorf("fractions", "%v: want a fraction in (0,1]", f)
		}
	}
	if hasDup(g.Fractions) {
		return nil, param.Errorf("fractions", "%v: a fraction appears twice", g.Fractions)
	}
	if hasDup(g.Seeds) {
		return nil, fmt.Errorf("seeds %v: a seed appears twice", g.Seeds)
	}
	owned := slices.Clone(sweepOwned)
	if len(g.Optimizers) > 0 {
		owned = append(owned, "optimizer")
	}
	if len(g.LRs) > 0 {
		owned = append(owned, "lr")
	}
	if len(g.Fractions) > 0 {
		owned = append(owned, "train-fraction")
	}
	check := func(where string, args []string) error {
		for _, a := range args {
			if n := flagName(a); slices.Contains(owned, n) {
				return fmt.Errorf("%s sets --%s, which the sweep sets itself (its own flag or grid axis)", where, n)
			}
		}
		return nil
	}
	if err := check("the training flags", g.Base); err != nil {
		return nil, err
	}
	for _, v := range g.Variants {
		if err := check("variant "+v.Name, v.Flags); err != nil {
			return nil, err
		}
	}

	opts := g.Optimizers
	if len(opts) == 0 {
		opts = []string{""}
	}
	vars := g.Variants
	if len(vars) == 0 {
		vars = []Variant{{}}
	}
	lrs := g.LRs
	if len(lrs) == 0 {
		lrs = []float64{0}
	}
	fracs := g.Fractions
	if len(fracs) == 0 {
		fracs = []float64{0}
	}
	var cells []Cell
	ids := map[string]bool{}
	for _, seed := range g.Seeds {
		for _, f := range fracs {
			for _, o := range opts {
				for _, v := range vars {
					for _, lr := range lrs {
						c := Cell{Optimizer: o, Variant: v.Name, LR: lr, Fraction: f, Seed: seed}
						c.Arm = strings.Trim(o+"-"+v.Name, "-")
						id := []string{c.Arm}
						if o != "" {
							c.Args = append(c.Args, "--optimizer="+o)
						}
						if lr != 0 {
							c.Args = append(c.Args, "--lr="+formatNum(lr))
							id = append(id, "lr"+formatNum(lr))
						}
						if f != 0 {
							c.Args = append(c.Args, "--train-fraction="+formatNum(f))
							id = append(id, "f"+formatNum(f))
						}
						c.Args = append(c.Args, v.Flags...)
						c.Args = append(c.Args, g.Base...)
						id = append(id, "s"+strconv.FormatInt(seed, 10))
						c.ID = strings.Join(id, "-")
						if ids[c.ID] {
							return nil, fmt.Errorf("two cells would share the run folder %q (an optimizer and a variant of the same name?)", c.ID)
						}
						ids[c.ID] = true
						cells = append(cells, c)
					}
				}
			}
		}
	}
	return cells, nil
}

func uniqueNames(what string, names []string) error {
	seen := map[string]bool{}
	for _, n := range names {
		if !validName.MatchString(n) {
			return fmt.Errorf("%s name %q: want letters, digits, '.', '_' or '-'", what, n)
		}
		if seen[n] {
			return fmt.Errorf("%s %q appears twice", what, n)
		}
		seen[n] = true
	}
	return nil
}

func hasDup[T comparable](xs []T) bool {
	seen := map[T]bool{}
	for _, x := range xs {
		if seen[x] {
			return true
		}
		seen[x] = true
	}
	return false
}

// formatNum writes a number in the fewest digits that read back to it.
func formatNum(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
