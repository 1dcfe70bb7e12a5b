package plasticity

import (
	"strings"
	"testing"
)

// Issue 16, case 8: a rule file's values get the checks of the flags.
func TestRuleFileValuesChecked(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{`{"format":"plastic-rules/1","T":1,"update":"additive","eta":-1,"rules":[{"target":"output","kind":"table","shape":[2,2],"values":[-1,1,1,-1]}]}`, "eta = -1"},
		{`{"format":"plastic-rules/1","T":1,"update":"additive","rules":[{"target":"output","kind":"table","shape":[2,2],"values":[-1,null,1,-1]}]}`, "values[1] is null"},
		{`{"format":"plastic-rules/1","T":1,"update":"additive","rules":[{"target":"output","kind":"table","shape":[2,2],"values":null}]}`, "values is null"},
		{`{"format":"plastic-rules/1","T":1,"update":"additive","rules":[{"target":"output","kind":"nn","shape":[2,2],"values":[0,0,0,0],"hidden":1,"w1":[1,null],"b1":[0],"w2":[1],"b2":[0]}]}`, "w1[1] is null"},
	} {
		_, err := UnmarshalRules([]byte(c.body), "r.json")
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "r.json") {
			t.Errorf("%s: %v, want %q", c.body, err, c.want)
		}
	}
	ok := `{"format":"plastic-rules/1","T":1,"update":"additive","eta":0.5,"rules":[{"target":"output","kind":"table","shape":[2,2],"values":[-1,1,1,-1]}]}`
	if rs, err := UnmarshalRules([]byte(ok), "ok.json"); err != nil || rs.Eta != 0.5 {
		t.Fatalf("a good file: %v", err)
	}
}
