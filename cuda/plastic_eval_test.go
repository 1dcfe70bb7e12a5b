package cuda

import "testing"

// Evaluate counts the right predictions Infer counts step by step, for
// shared and own input weights, both firing definitions, T = 1..3, in one
// chunk and in many (the last one short).
func TestDevPlasticEvaluate(t *testing.T) {
	c := gpu(t)
	r := rnd(t, 12)
	defer func(b int) { evalBudget = b }(evalBudget)
	for _, tc := range []struct {
		shared, topk bool
		T            int
	}{{true, true, 3}, {false, false, 2}, {false, true, 1}} {
		nb := NetBatch{B: 3, V: 40, N: 12, M: 4, T: tc.T, K: 15, SharedInput: tc.shared, SharedRules: true, TopKFiring: tc.topk, RNNRule: true, OutputRule: true}
		nb.Update.Eta = 0.01
		ok(t, nb.Check())
		nA := nb.B
		if tc.shared {
			nA = 1
		}
		s := &PlasticNets{Am: randSlice(r, nA*nb.V*nb.N), W: randSlice(r, nb.B*nb.V*nb.V), Mg: make([]float32, nb.B*nb.V*nb.V),
			U: randSlice(r, nb.B*nb.M*nb.V), Bias: randSlice(r, nb.B*nb.V), C: randSlice(r, nb.B*nb.M),
			Rule: randSlice(r, nb.Update.S*nb.Update.S), Out: randSlice(r, nb.Update.S*2)}
		for i := range s.Mg {
			if r.Float64() < 0.5 {
				s.Mg[i] = 1
			}
			s.W[i] *= s.Mg[i]
		}
		rows, steps := 60, 47
		data := reluRef(randSlice(r, rows*nb.N))
		idx, labels := make([]int32, steps*nb.B), make([]int32, steps*nb.B)
		for i := range idx {
			idx[i], labels[i] = int32(r.Intn(rows)), int32(r.Intn(nb.M))
		}
		d, err := c.NewDevicePlastic(nb, s)
		ok(t, err)
		ok(t, d.SetData(data))
		ok(t, d.Infer(idx, labels))
		want, err := d.Counts()
		ok(t, err)
		if want[0]+want[1]+want[2] == 0 || want[0]+want[1]+want[2] == int32(steps*nb.B) {
			t.Fatalf("counts %v: want some right and some wrong predictions", want)
		}
		for _, budget := range []int{1 << 22, 10 * nb.B * nb.V} { // one chunk; chunks of 10 examples
			evalBudget = budget
			ok(t, d.Evaluate(idx, labels))
			got, err := d.Counts()
			ok(t, err)
			exactI(t, "right predictions", got, want)
		}
		ok(t, d.Free())
	}
}
