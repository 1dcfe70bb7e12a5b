package plasticity

import (
	"math/rand"
	"testing"

	"github.com/plasticity-lab/plastic/cuda/devtest"
	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/models"
)

// The device's firing codes are models.Firing's: after training, every
// network's codes for an example on the device equal the codes of
// models.RNN.Forward (the float64 reference, which reads Firing) of the
// trained network, for both definitions, with the cap below |V| (ties at
// zero: an untrained W leaves rounds 2..T all zero, top-k firing picks the
// lowest indices) and at |V| (every node picked: all fire under top-k,
// only the non-zero ones under the paper's definition).
func TestDeviceFiringCodesFollowModels(t *testing.T) {
	dev := devtest.Open(t)
	rng := rand.New(rand.NewSource(7))
	set := blobs(11, 120, 12, 3)
	for _, firing := range []models.Firing{models.FiringTopK, models.FiringNonzero} {
		for _, k := range []int{9, 36} {
			for _, trainN := range []int{0, 80} {
				rs := &RuleSet{Rounds: 3, RNN: RandomTable(TargetRNN, 3, rng), Output: RandomTable(TargetOutput, 3, rng)}
				var nets []*models.RNN
				for b := 0; b < 3; b++ {
					net, err := models.NewRNN(models.RNNConfig{Inputs: set.Dim, Labels: set.Classes, Nodes: 36, P: 0.5, Cap: k, T: 3, Firing: firing}, int64(20+b))
					if err != nil {
						t.Fatal(err)
					}
					nets = append(nets, net)
				}
				dt, err := NewDeviceTrainer(dev, nets, rs, Scheme{EveryExample: true})
				if err != nil {
					t.Fatal(err)
				}
				if trainN > 0 {
					order := make([][]int, len(nets))
					for b := range order {
						order[b] = rand.New(rand.NewSource(int64(b))).Perm(set.N)[:trainN]
					}
					if _, err := dt.Learn(set, order); err != nil {
						t.Fatal(err)
					}
				}
				trained, err := dt.Trained()
				if err != nil {
					t.Fatal(err)
				}
				for i := 100; i < 110; i++ {
					order := [][]int{{i}, {i}, {i}}
					if _, err := dt.run([]*data.Set{set}, order, dt.dp.Infer); err != nil {
						t.Fatal(err)
					}
					st, err := dt.dp.State()
					if err != nil {
						t.Fatal(err)
					}
					for b, net := range trained {
						p, err := net.Forward(set.Row(i))
						if err != nil {
							t.Fatal(err)
						}
						fired := 0
						for j, c := range p.Codes {
							if got := st.Last.Codes[b*36+j]; got != int32(c) {
								t.Fatalf("%s firing, k=%d, %d examples trained, network %d, example %d, node %d: device code %03b, models.RNN.Forward %03b",
									firing, k, trainN, b, i, j, got, c)
							}
							fired += int(c & 1)
						}
						if firing == models.FiringTopK && fired != k || fired > k {
							t.Fatalf("%s firing, k=%d: %d nodes fired in the last round", firing, k, fired)
						}
					}
				}
				dt.Close()
			}
		}
	}
}
