package plasticity

import (
	"fmt"

	"github.com/plasticity-lab/plastic/cuda"
	"github.com/plasticity-lab/plastic/graph"
	"github.com/plasticity-lab/plastic/models"
	G "gorgonia.org/gorgonia"
)

// devInner is meta-learning's graph.InnerTrainer on a device (MetaConfig
// .Device): one PlasticTrain node whose value is the loss itself, a
// vector of one element. Its forward is the whole meta-learning forward
// on the device (cuda.MetaPlastic: the rule-based training of the reset
// network on the batch, the batch through the trained network, the
// loss); its backward returns dLoss/d(rule table), computed on the device
// from the recorded code sequence, scaled here (float64) by eta, or eta /
// (1 + eta r) for multiplicative rules, as inner.BackwardFlat does. The
// graph keeps only the rules' parameterization (small-NN rules' tables)
// and Adam, on the CPU.
type devInner struct {
	mp      *cuda.MetaPlastic
	targets []Target // op input order
	eta     float64
	mult    bool
	tables  map[Target][]float64 // of the last TrainFlat
	grads   map[Target][]float64 // of the last TrainFlat, nil until asked
	x       []float32
	y       []int32
}

func newDevInner(dev *cuda.Context, net *models.RNN, rs *RuleSet, cfg MetaConfig) (*devInner, error) {
	kind := map[string]int{graph.LossCE: cuda.MetaLossCE, "": cuda.MetaLossCE, graph.LossSoftmaxCE: cuda.MetaLossSoftmaxCE, graph.LossMSE: cuda.MetaLossMSE}
	k, ok := kind[cfg.Loss]
	if !ok {
		return nil, fmt.Errorf("meta-learning: unknown loss %q: want %s, %s or %s", cfg.Loss, graph.LossCE, graph.LossMSE, graph.LossSoftmaxCE)
	}
	nb, st, err := deviceBatch([]*models.RNN{net}, rs, cfg.Scheme)
	if err != nil {
		return nil, err
	}
	mp, err := dev.NewMetaPlastic(nb, st, cfg.Batch, k)
	if err != nil {
		return nil, err
	}
	return &devInner{mp: mp, eta: cfg.Scheme.eta(rs), mult: rs.Multiplicative}, nil
}

func (d *devInner) OutSize() int { return 1 }

func (d *devInner) TrainFlat(tables [][]float64) ([]float64, error) {
	d.tables, d.grads = map[Target][]float64{}, nil
	f32 := map[Target][]float32{}
	for i, t := range d.targets {
		d.tables[t] = tables[i]
		f := make([]float32, len(tables[i]))
		for j, v := range tables[i] {
			f[j] = float32(v)
		}
		f32[t] = f
	}
	loss, err := d.mp.Loss(f32[TargetRNN], f32[TargetOutput], f32[TargetInput], d.x, d.y)
	if err != nil {
		return nil, err
	}
	return []float64{loss}, nil
}

func (d *devInner) BackwardFlat(i int, g []float64) ([]float64, error) {
	if len(g) != 1 || i < 0 || i >= len(d.targets) {
		return nil, fmt.Errorf("PlasticTrain on the device: gradient of %d entries for table %d", len(g), i)
	}
	if d.grads == nil {
		rnn, out, in, err := d.mp.Grads()
		if err != nil {
			return nil, err
		}
		d.grads = map[Target][]float64{}
		for t, s := range map[Target][]float32{TargetRNN: rnn, TargetOutput: out, TargetInput: in} {
			if s == nil {
				continue
			}
			tab := d.tables[t]
			r := make([]float64, len(s))
			for k, v := range s {
				if d.mult {
					r[k] = float64(v) * d.eta / (1 + d.eta*tab[k])
				} else {
					r[k] = float64(v) * d.eta
				}
			}
			d.grads[t] = r
		}
	}
	src := d.grads[d.targets[i]]
	res := make([]float64, len(src))
	for k, v := range src {
		res[k] = v * g[0]
	}
	return res, nil
}

// setBatch is the batch of the next TrainFlat.
func (d *devInner) setBatch(x []float32, y []int) {
	d.x = x
	d.y = d.y[:0]
	for _, c := range y {
		d.y = append(d.y, int32(c))
	}
}

// deviceLoss is the loss node of meta-learning on cfg.Device: the device
// PlasticTrain node's one value.
func (ml *MetaLearner) deviceLoss(tables G.Nodes) (*G.Node, error) {
	d, err := newDevInner(ml.cfg.Device, ml.net, ml.rules, ml.cfg)
	if err != nil {
		return nil, err
	}
	d.targets = ml.in.targets
	ml.dev = d
	v, err := graph.PlasticTrain(d, tables...)
	if err != nil {
		return nil, err
	}
	return G.Sum(v)
}
