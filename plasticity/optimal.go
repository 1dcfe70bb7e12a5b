package plasticity

import (
	"errors"
	"fmt"

	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/models"
	"gonum.org/v1/gonum/mat"
)

// OptimalOutputRule is Appendix B's closed-form output rule: with updates
// on every example and every output row (additive, U reset to 0), the
// trained U is linear in the rule,
//
//	U_c = eta * sum_a ( r[a][0] * ind[a][c] + r[a][1] * (tot[a] - ind[a][c]) ),
//
// where ind[a][c][j] counts the examples of class c on which node j had
// code a and tot[a] sums ind over classes. The logits f_c(x_i) = U_c . h(x_i)
// (no softmax) are then linear in the 2^T x 2 entries of r, and the MSE to
// the one-hot labels is minimised by the normal equations M r = q,
// M = sum_{i,c} F_ic F_ic^T, q = sum_i F_{i,label(i)}, F_ic[a,b] = the
// coefficient of r[a][b] in f_c(x_i). Building them costs O(N * m * d * 2^T)
// (4 x 4 for T = 1, O(N m d) as in the paper). The network must be
// additive with T = 1: for T > 1 the hidden features depend on W, which
// only an RNN rule would train, so the closed form would not hold.
// It returns the rule and its MSE on set.
func OptimalOutputRule(net *models.RNN, set *data.Set, eta float64) (*TableRule, float64, error) {
	if net.T != 1 {
		return nil, 0, fmt.Errorf("closed-form output rule needs T = 1 (got T = %d): for T > 1 the features depend on the trained W", net.T)
	}
	if net.Multiplicative {
		return nil, 0, errors.New("closed-form output rule needs additive updates")
	}
	if eta <= 0 {
		eta = DefaultEta
	}
	if err := checkSet(set, net.Inputs, net.Labels); err != nil {
		return nil, 0, err
	}
	feat, codes := features(net, set)
	v, m, nc := net.Nodes, net.Labels, net.Codes()
	P := 2 * nc
	// ind[(a*m + c)*v + j]
	ind := make([]float64, nc*m*v)
	tot := make([]float64, nc*v)
	for i := 0; i < set.N; i++ {
		c := set.Y[i]
		for j, a := range codes[i*v : (i+1)*v] {
			ind[(int(a)*m+c)*v+j] += eta
			tot[int(a)*v+j] += eta
		}
	}
	M := mat.NewSymDense(P, nil)
	q := mat.NewVecDense(P, nil)
	F := make([]float64, P)
	tdot := make([]float64, nc)
	for i := 0; i < set.N; i++ {
		y := feat[i*v : (i+1)*v]
		for a := 0; a < nc; a++ {
			tdot[a] = dot(tot[a*v:(a+1)*v], y)
		}
		for c := 0; c < m; c++ {
			for a := 0; a < nc; a++ {
				id := dot(ind[(a*m+c)*v:(a*m+c+1)*v], y)
				F[2*a], F[2*a+1] = id, tdot[a]-id
			}
			for p := 0; p < P; p++ {
				for s := p; s < P; s++ {
					M.SetSym(p, s, M.At(p, s)+F[p]*F[s])
				}
			}
			if c == set.Y[i] {
				for p := 0; p < P; p++ {
					q.SetVec(p, q.AtVec(p)+F[p])
				}
			}
		}
	}
	// Minimum-norm least squares (codes that never occur leave M singular).
	var svd mat.SVD
	if !svd.Factorize(M, mat.SVDThin) {
		return nil, 0, errors.New("closed-form output rule: SVD failed")
	}
	vals := svd.Values(nil)
	rank := 0
	for _, s := range vals {
		if s > 1e-12*vals[0] {
			rank++
		}
	}
	if rank == 0 {
		return nil, 0, errors.New("closed-form output rule: no node ever fires on this data")
	}
	var sol mat.Dense
	svd.SolveTo(&sol, q, rank)
	r := make([]float64, P)
	for p := range r {
		r[p] = sol.At(p, 0)
	}
	rule, _ := NewTable(TargetOutput, net.T, r)
	loss, err := OutputRuleMSE(net, set, rule, eta)
	return rule, loss, err
}

// features runs every example through the reset network and returns the
// final hidden vectors (N x |V|) and firing codes.
func features(net *models.RNN, set *data.Set) ([]float64, []uint8) {
	e := newEngine[float64](net, &RuleSet{Rounds: net.T}, Scheme{})
	v := net.Nodes
	feat := make([]float64, set.N*v)
	codes := make([]uint8, set.N*v)
	for i := 0; i < set.N; i++ {
		e.forward(set.Row(i))
		copy(feat[i*v:], e.hidden())
		copy(codes[i*v:], e.codes)
	}
	return feat, codes
}

// OutputRuleMSE trains net with the output rule alone (every example,
// every row, additive, float64) over set and returns the MSE of the final
// logits to the one-hot labels on set, (1/(N m)) sum_i sum_c (f_c - 1[c=y_i])^2:
// the loss OptimalOutputRule minimises, computed by actually training.
func OutputRuleMSE(net *models.RNN, set *data.Set, rule Rule, eta float64) (float64, error) {
	rs := &RuleSet{Rounds: net.T, Output: rule}
	if err := CheckRules(net, rs); err != nil {
		return 0, err
	}
	if err := checkSet(set, net.Inputs, net.Labels); err != nil {
		return 0, err
	}
	e := newEngine[float64](net, rs, Scheme{Eta: eta, EveryExample: true, AllRows: true})
	for i := 0; i < set.N; i++ {
		e.learn(set.Row(i), set.Y[i])
	}
	s := 0.0
	for i := 0; i < set.N; i++ {
		e.forward(set.Row(i))
		for c, f := range e.logits {
			t := 0.0
			if c == set.Y[i] {
				t = 1
			}
			s += (f - t) * (f - t)
		}
	}
	return s / float64(set.N*net.Labels), nil
}
