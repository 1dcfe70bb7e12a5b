package baseline

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/models"
)

// evalBatch is the batch size of Accuracy's forward graph.
const evalBatch = 250

// Accuracy is the fraction of set that net classifies correctly, computed
// in float32 batches through the Gorgonia forward graph (the same graph
// gradient descent trains).
func Accuracy(net *models.RNN, set *data.Set) (float64, error) {
	if err := CheckSet(net, set); err != nil {
		return 0, err
	}
	B := min(evalBatch, set.N)
	g := G.NewGraph()
	xT := tensor.New(tensor.WithShape(B, net.Inputs), tensor.Of(tensor.Float32))
	x := G.NewMatrix(g, tensor.Float32, G.WithShape(B, net.Inputs), G.WithName("x"), G.WithValue(xT))
	logits, err := net.BuildLogits(x, models.GraphParams{})
	if err != nil {
		return 0, err
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	xs := xT.Data().([]float32)
	m := net.Labels
	correct := 0
	for lo := 0; lo < set.N; lo += B {
		n := min(B, set.N-lo)
		copy(xs, set.X[lo*set.Dim:(lo+n)*set.Dim])
		clear(xs[n*set.Dim:])
		vm.Reset()
		if err := vm.RunAll(); err != nil {
			return 0, fmt.Errorf("accuracy: %w", err)
		}
		ls, ok := logits.Value().Data().([]float32)
		if !ok {
			return 0, fmt.Errorf("accuracy: logits of type %T", logits.Value().Data())
		}
		for i := 0; i < n; i++ {
			if models.Argmax(ls[i*m:(i+1)*m]) == set.Y[lo+i] {
				correct++
			}
		}
	}
	return float64(correct) / float64(set.N), nil
}
