package graph

import (
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestLossShapeErrors: one-hot targets of the wrong width are a shape error
// returned by Loss for every loss kind, not a nil-pointer panic from the ops
// built after the failing one.
func TestLossShapeErrors(t *testing.T) {
	for _, kind := range []string{LossCE, LossSoftmaxCE, LossMSE} {
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			g := G.NewGraph()
			logits := G.NewMatrix(g, dt, G.WithShape(4, 3), G.WithName("logits"), G.WithInit(G.Zeroes()))
			onehot := G.NewMatrix(g, dt, G.WithShape(4, 5), G.WithName("onehot"), G.WithInit(G.Zeroes()))
			var (
				out *G.Node
				err error
			)
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("%s %v: panic %v", kind, dt, p)
					}
				}()
				out, err = Loss(kind, logits, onehot)
			}()
			if err == nil || out != nil || !strings.Contains(err.Error(), "hape") {
				t.Errorf("%s %v: got %v, %v; want a shape error", kind, dt, out, err)
			}
		}
	}
}
