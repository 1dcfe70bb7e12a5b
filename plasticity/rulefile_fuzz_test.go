package plasticity

import (
	"bytes"
	"math/rand"
	"testing"
)

// ruleFileSeedCorpus: every built-in rule set, a learned-looking table
// rule and an NN rule, and the usual ways of being broken.
func ruleFileSeedCorpus(t testing.TB) [][]byte {
	var out [][]byte
	for _, n := range BuiltinNames() {
		rs, _ := Builtin(n)
		b, err := MarshalRules(rs)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	rng := rand.New(rand.NewSource(1))
	nn, err := NewNN(TargetRNN, 2, 3, rng)
	if err != nil {
		t.Fatal(err)
	}
	b, err := MarshalRules(&RuleSet{Rounds: 2, RNN: nn, Output: RandomTable(TargetOutput, 2, rng), Eta: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, b)
	return append(out,
		[]byte(`{"format":"plastic-rules/1","T":1,"update":"additive","eta":-1,"rules":[{"target":"output","kind":"table","shape":[2,2],"values":[-1,1,1,-1]}]}`),
		[]byte(`{"format":"plastic-rules/1","T":1,"update":"additive","rules":[{"target":"output","kind":"table","shape":[2,2],"values":[-1,null,1,-1]}]}`),
		[]byte(`{"format":"plastic-rules/1","T":9,"update":"additive","rules":[]}`),
		[]byte(`{"format":"plastic-rules/1","T":1,"update":"additive","rules":[{"target":"output","kind":"nn","shape":[2,2],"values":[0,0,0,0],"hidden":-3}]}`),
		[]byte(`{"format":"plastic-rules/1","T":1,"update":"sideways","rules":[]}`),
		b[:len(b)/2],
		[]byte(`null`),
		[]byte{},
	)
}

// fuzzRuleFile is the property of UnmarshalRules: it never panics, and a
// rule set it accepts encodes and decodes back to the same encoding.
func fuzzRuleFile(t *testing.T, in []byte) bool {
	rs, err := UnmarshalRules(in, "fuzz.json")
	if err != nil {
		return false
	}
	b1, err := MarshalRules(rs)
	if err != nil {
		t.Fatalf("an accepted rule set does not encode: %v", err)
	}
	rs2, err := UnmarshalRules(b1, "again.json")
	if err != nil {
		t.Fatalf("an accepted rule set encoded again does not decode: %v\n%s", err, b1)
	}
	b2, _ := MarshalRules(rs2)
	if !bytes.Equal(b1, b2) {
		t.Fatalf("round trip differs:\n%s\n%s", b1, b2)
	}
	return true
}

func FuzzUnmarshalRules(f *testing.F) {
	for _, s := range ruleFileSeedCorpus(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) { fuzzRuleFile(t, in) })
}

// TestUnmarshalRulesSeedCorpus runs the fuzz property over the seed corpus,
// which holds both accepted and rejected inputs.
func TestUnmarshalRulesSeedCorpus(t *testing.T) {
	ok, bad := 0, 0
	corpus := ruleFileSeedCorpus(t)
	for _, s := range corpus {
		if fuzzRuleFile(t, s) {
			ok++
		} else {
			bad++
		}
	}
	if want := len(BuiltinNames()) + 1; ok != want || bad != len(corpus)-want {
		t.Fatalf("seed corpus: %d accepted, %d rejected; want %d and %d", ok, bad, want, len(corpus)-want)
	}
}
