package plasticity

import (
	"math"
	"math/rand"
	"testing"

	"github.com/plasticity-lab/plastic/cuda/devtest"
	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/models"
)

// Batched rule-based training on the device against the CPU engine: the
// same 4 networks trained on 200 examples each (own order each) give the
// same weights (W, U, A: normwise relative error <= 1e-5), the same
// predictions (each example's, before its update) and the same test
// accuracy, for every option: RNN, output and input rules, tables and
// small-NN rules, T = 1, 2, 3, additive and multiplicative, both firing
// definitions, misclassified-only and every-example schemes (with both
// output columns on a right prediction's row or not), true and predicted
// rows or all rows, shared and own input weights.

func relErr64(got, want []float64) float64 {
	var d, s float64
	for i := range want {
		d = math.Max(d, math.Abs(got[i]-want[i]))
		s = math.Max(s, math.Abs(want[i]))
	}
	if s == 0 {
		return d
	}
	return d / s
}

func TestDeviceTrainerMatchesEngine(t *testing.T) {
	dev := devtest.Open(t)
	rng := rand.New(rand.NewSource(4))
	hsTrain, hsTest := halfspace(3, 200, 16)
	hsTest = subset(hsTest, 80)
	bl := blobs(5, 260, 16, 4) // 200 to train, 60 to test
	blTrain, blTest := subset(bl, 200), data.Select(bl, identity(260)[200:])
	nn := func(tg Target, T int) Rule {
		r, err := NewNN(tg, T, 6, rng)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, tc := range []struct {
		name        string
		T, v, k     int
		rs          *RuleSet
		s           Scheme
		topk        bool
		sameNet     bool // one network, four example orders
		train, test *data.Set
		chunk       int
	}{
		{name: "tables T=3 rnn+output", T: 3, v: 48, k: 20, rs: &RuleSet{Rounds: 3, RNN: RandomTable(TargetRNN, 3, rng), Output: RandomTable(TargetOutput, 3, rng)},
			train: hsTrain, test: hsTest, chunk: 1},
		{name: "nn rules T=2 rnn+output+input, top-k, every example, all rows", T: 2, v: 40, k: 25, topk: true,
			rs: &RuleSet{Rounds: 2, RNN: nn(TargetRNN, 2), Output: nn(TargetOutput, 2), Input: nn(TargetInput, 2)},
			s:  Scheme{EveryExample: true, AllRows: true, Eta: 0.02}, train: blTrain, test: blTest, chunk: 50},
		{name: "multiplicative T=2 tables with input rule", T: 2, v: 32, k: 12,
			rs:    &RuleSet{Rounds: 2, Multiplicative: true, RNN: RandomTable(TargetRNN, 2, rng), Output: RandomTable(TargetOutput, 2, rng), Input: RandomTable(TargetInput, 2, rng)},
			train: blTrain, test: blTest, chunk: 64},
		{name: "tables T=3 every example, both columns, top-k", T: 3, v: 48, k: 20, topk: true,
			rs: &RuleSet{Rounds: 3, RNN: RandomTable(TargetRNN, 3, rng), Output: RandomTable(TargetOutput, 3, rng)},
			s:  Scheme{EveryExample: true, BothColumns: true}, train: blTrain, test: blTest, chunk: 40},
		{name: "multiplicative nn rules T=2 every example, both columns, nonzero firing", T: 2, v: 40, k: 16,
			rs: &RuleSet{Rounds: 2, Multiplicative: true, RNN: nn(TargetRNN, 2), Output: nn(TargetOutput, 2)},
			s:  Scheme{EveryExample: true, BothColumns: true, Eta: 0.02}, train: hsTrain, test: hsTest, chunk: 25},
		{name: "perceptron T=1, one network, four orders", T: 1, v: 50, k: 25, sameNet: true,
			rs: mustBuiltin(t, "perceptron"), train: hsTrain, test: hsTest, chunk: 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var nets []*models.RNN
			for b := 0; b < 4; b++ {
				seed := int64(10 + b)
				if tc.sameNet {
					seed = 10
				}
				net, err := models.NewRNN(models.RNNConfig{Inputs: tc.train.Dim, Labels: tc.train.Classes, Nodes: tc.v, P: 0.5, Cap: tc.k, T: tc.T,
					Multiplicative: tc.rs.Multiplicative, Firing: firingOf(tc.topk)}, seed)
				if err != nil {
					t.Fatal(err)
				}
				nets = append(nets, net)
			}
			orders := make([][]int, 4)
			for b := range orders {
				orders[b] = rand.New(rand.NewSource(int64(b))).Perm(tc.train.N)
			}
			// CPU: one engine per network.
			wantOK := make([][]int, 4) // right predictions per chunk
			var cpuNets []*models.RNN
			var cpuTest []float64
			for b, net := range nets {
				tr, err := NewTrainer(net, tc.rs, tc.s)
				if err != nil {
					t.Fatal(err)
				}
				for lo := 0; lo < tc.train.N; lo += tc.chunk {
					ok := 0
					for _, i := range orders[b][lo:min(lo+tc.chunk, tc.train.N)] {
						if tr.Learn(tc.train.Row(i), tc.train.Y[i]) == tc.train.Y[i] {
							ok++
						}
					}
					wantOK[b] = append(wantOK[b], ok)
				}
				acc, err := tr.Accuracy(tc.test)
				if err != nil {
					t.Fatal(err)
				}
				cpuTest = append(cpuTest, acc)
				cpuNets = append(cpuNets, tr.Network())
				tr.Close()
			}
			// Device: the four at once.
			dt, err := NewDeviceTrainer(dev, nets, tc.rs, tc.s)
			if err != nil {
				t.Fatal(err)
			}
			defer dt.Close()
			if tc.sameNet != dt.nb.SharedInput {
				t.Fatalf("shared input weights: %v, want %v", dt.nb.SharedInput, tc.sameNet)
			}
			for c, lo := 0, 0; lo < tc.train.N; c, lo = c+1, lo+tc.chunk {
				chunk := make([][]int, 4)
				for b := range chunk {
					chunk[b] = orders[b][lo:min(lo+tc.chunk, tc.train.N)]
				}
				ok, err := dt.Learn(tc.train, chunk)
				if err != nil {
					t.Fatal(err)
				}
				for b := range ok {
					if ok[b] != wantOK[b][c] {
						t.Fatalf("network %d, examples %d..: %d right predictions on the device, %d on the CPU", b, lo, ok[b], wantOK[b][c])
					}
				}
			}
			acc, err := dt.Accuracy(tc.test)
			if err != nil {
				t.Fatal(err)
			}
			got, err := dt.Trained()
			if err != nil {
				t.Fatal(err)
			}
			for b := range nets {
				if acc[b] != cpuTest[b] {
					t.Errorf("network %d: test accuracy %v on the device, %v on the CPU", b, acc[b], cpuTest[b])
				}
				for _, m := range []struct {
					name      string
					dev, want []float64
				}{{"W", got[b].W, cpuNets[b].W}, {"U", got[b].U, cpuNets[b].U}, {"A", got[b].A, cpuNets[b].A}, {"b", got[b].B, cpuNets[b].B}} {
					if e := relErr64(m.dev, m.want); !(e <= 1e-5) {
						t.Errorf("network %d: %s off by %.3g", b, m.name, e)
					}
				}
			}
		})
	}
}

func mustBuiltin(t *testing.T, name string) *RuleSet {
	t.Helper()
	rs, err := Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// firingOf names the firing definition of a case: top-k or the paper's.
func firingOf(topk bool) models.Firing {
	if topk {
		return models.FiringTopK
	}
	return models.FiringNonzero
}
