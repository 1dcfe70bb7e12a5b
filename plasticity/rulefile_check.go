package plasticity

import (
	"encoding/json"
	"fmt"
	"math"
)

// checkRuleFile applies to a rule file the checks its values get as flags:
// eta finite and > 0 when given (0 or absent: the default), and no null
// where numbers belong (encoding/json reads null as 0 without a word).
func checkRuleFile(b []byte, name string, eta float64) error {
	if math.IsNaN(eta) || math.IsInf(eta, 0) || eta < 0 {
		return fmt.Errorf("rule file %s: eta = %v, want a finite value > 0", name, eta)
	}
	var raw struct {
		Rules []map[string]json.RawMessage `json:"rules"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("rule file %s: %w", name, err)
	}
	for k, r := range raw.Rules {
		for _, field := range []string{"values", "w1", "b1", "w2", "b2"} {
			v, ok := r[field]
			if !ok {
				continue
			}
			if string(v) == "null" {
				return fmt.Errorf("rule file %s, rule %d: %s is null, want numbers", name, k, field)
			}
			var xs []*float64
			if err := json.Unmarshal(v, &xs); err != nil {
				return fmt.Errorf("rule file %s, rule %d: %s: %w", name, k, field, err)
			}
			for i, x := range xs {
				if x == nil {
					return fmt.Errorf("rule file %s, rule %d: %s[%d] is null, want a number", name, k, field, i)
				}
			}
		}
	}
	return nil
}
