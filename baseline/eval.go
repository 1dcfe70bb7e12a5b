package baseline

import (
	"fmt"

	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/models"
)

// evalBatch is the batch size of Accuracy's forward pass.
const evalBatch = 256

// Accuracy is the fraction of set that net classifies correctly, computed
// by the network's forward pass (models.Rounds) in float32 over batches of
// examples, each product one GEMM (models.Batched).
func Accuracy(net *models.RNN, set *data.Set) (float64, error) {
	if err := CheckSet(net, set); err != nil {
		return 0, err
	}
	correct := 0
	err := models.Batched[float32](net, evalBatch).Each(set.X[:set.N*set.Dim], func(i int, logits []float32) {
		if models.Argmax(logits) == set.Y[i] {
			correct++
		}
	})
	if err != nil {
		return 0, fmt.Errorf("accuracy: %w", err)
	}
	return float64(correct) / float64(set.N), nil
}
