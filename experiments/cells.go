package experiments

import "github.com/plasticity-lab/plastic/plasticity"

// Cells lets an experiment's independent units of work run elsewhere (the
// tasks of a Slurm job array): each unit is named by a key, and is either a
// learned rule set or a JSON-encodable result (a re-training's accuracies).
// An experiment asks for every unit in the same way, whatever the
// implementation does: compute it here, read it from where another process
// stored it, or skip it (the result then keeps its zero value, and the
// experiment's outputs of that process are thrown away). Env.Cells nil
// computes everything here.
type Cells interface {
	// Rules returns the rule set of unit key, learned by learn or as
	// stored.
	Rules(key string, learn func() (*plasticity.RuleSet, error)) (*plasticity.RuleSet, error)
	// Result sets *out (a pointer) to the result of unit key: computed by
	// compute, read from the store, or left alone when skipped.
	Result(key string, out any, compute func() (any, error)) error
}

// rules is a learned rule set as a unit of env.Cells.
func (e Env) rules(key string, learn func() (*plasticity.RuleSet, error)) (*plasticity.RuleSet, error) {
	if e.Cells == nil {
		return learn()
	}
	return e.Cells.Rules(key, learn)
}

// unit is a result as a unit of env.Cells.
func unit[T any](e Env, key string, compute func() (T, error)) (T, error) {
	if e.Cells == nil {
		return compute()
	}
	var out T
	err := e.Cells.Result(key, &out, func() (any, error) { return compute() })
	return out, err
}
