package data

import (
	"fmt"
	"hash/fnv"
	"math/rand"
)

// Synthetic sets of the plasticity paper (10,000 train and 10,000 test
// points each by default, 10 input dimensions, 2 classes).
//
// Every random draw comes from a stream derived from (seed, set name, part)
// by streamSeed, with parts "task" (the labelling function: the halfspace
// or the ReLU network), "train" and "test" (the points) and "noise-train",
// "noise-test" (label flips). So:
//   - the same seed gives the same numbers;
//   - ReLU1 and ReLU2 differ only by their name in the stream derivation:
//     with one seed they are two different random networks (and different
//     points);
//   - changing NTrain does not change the labelling function or the test set.

// Defaults of the synthetic sets. The ReLU sets follow the authors' code
// (their README's width 100, points uniform in [-1,1]^10); the paper's
// text ("a 10-dimensional normal distribution") and this toolkit's first
// generator used standard-normal points and width 1000, still available
// as Options{Points: PointsNormal, Width: 1000}.
const (
	DefaultN     = 10000
	DefaultDim   = 10
	DefaultWidth = 100
)

// How the ReLU sets draw their points (Options.Points).
const (
	PointsUniform = "uniform" // uniform in [-1,1]^Dim (default; the authors' code)
	PointsNormal  = "normal"  // standard normal in Dim dimensions (the paper's text)
)

// streamSeed derives the seed of one random stream from the user's seed, a
// name and an index (splitmix64 of the seed mixed with FNV-1a of the name).
func streamSeed(seed int64, name string, index int64) int64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	z := uint64(seed) ^ h.Sum64() ^ (uint64(index) * 0x9e3779b97f4a7c15)
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return int64(z)
}

func stream(seed int64, name, part string) *rand.Rand {
	return rand.New(rand.NewSource(streamSeed(seed, name+"/"+part, 0)))
}

func uniform(r *rand.Rand) float64 { return 2*r.Float64() - 1 }

func (o Options) withDefaults() Options {
	if o.NTrain <= 0 {
		o.NTrain = DefaultN
	}
	if o.NTest <= 0 {
		o.NTest = DefaultN
	}
	if o.Dim <= 0 {
		o.Dim = DefaultDim
	}
	if o.Width <= 0 {
		o.Width = DefaultWidth
	}
	if o.Points == "" {
		o.Points = PointsUniform
	}
	return o
}

func checkNoise(q float64) error {
	if q < 0 || q > 1 {
		return fmt.Errorf("label noise %v: want a probability in [0, 1]", q)
	}
	return nil
}

// genPoints fills a set of n points of dimension dim with draw and labels
// them with label.
func genPoints(name string, n, dim int, r *rand.Rand, draw func(*rand.Rand) float64, label func(x []float64) int) *Set {
	s := &Set{Name: name, X: make([]float32, n*dim), Y: make([]int, n), N: n, Dim: dim, Classes: 2, Shape: []int{dim}}
	x := make([]float64, dim)
	for i := 0; i < n; i++ {
		for j := range x {
			// Label the stored float32 value, so the labels are exactly
			// those of the stored points.
			v := float32(draw(r))
			x[j] = float64(v)
			s.X[i*dim+j] = v
		}
		s.Y[i] = label(x)
	}
	return s
}

// flipLabels flips each binary label with probability q.
func flipLabels(s *Set, q float64, r *rand.Rand) {
	if q == 0 {
		return
	}
	for i := range s.Y {
		if r.Float64() < q {
			s.Y[i] = 1 - s.Y[i]
		}
	}
}

// Halfspace generates the Halfspace set: points uniform in [-1,1]^Dim (as
// the authors' code draws them), labelled 1 when w.x + b > 0 and 0
// otherwise, with w uniform in [-1,1]^Dim and b uniform in [-1,1]; each
// label (train and test) is flipped with probability o.Noise.
func Halfspace(o Options) (train, test *Set, err error) {
	o = o.withDefaults()
	if err := checkNoise(o.Noise); err != nil {
		return nil, nil, err
	}
	const name = "halfspace"
	tr := stream(o.Seed, name, "task")
	w := make([]float64, o.Dim)
	for i := range w {
		w[i] = uniform(tr)
	}
	b := uniform(tr)
	label := func(x []float64) int {
		s := b
		for i, v := range x {
			s += w[i] * v
		}
		if s > 0 {
			return 1
		}
		return 0
	}
	train = genPoints(name, o.NTrain, o.Dim, stream(o.Seed, name, "train"), uniform, label)
	test = genPoints(name, o.NTest, o.Dim, stream(o.Seed, name, "test"), uniform, label)
	flipLabels(train, o.Noise, stream(o.Seed, name, "noise-train"))
	flipLabels(test, o.Noise, stream(o.Seed, name, "noise-test"))
	return train, test, nil
}

// ReLUNet is a random one-hidden-layer ReLU network without biases:
// out = W2 relu(W1 x), W1 (Width x Dim) and W2 (2 x Width) uniform in [-1,1].
type ReLUNet struct {
	Dim, Width int
	W1, W2     []float64
}

// NewReLUNet draws a network from r.
func NewReLUNet(dim, width int, r *rand.Rand) *ReLUNet {
	n := &ReLUNet{Dim: dim, Width: width, W1: make([]float64, width*dim), W2: make([]float64, 2*width)}
	for i := range n.W1 {
		n.W1[i] = uniform(r)
	}
	for i := range n.W2 {
		n.W2[i] = uniform(r)
	}
	return n
}

// Label is the argmax of the two outputs (0 on a tie).
func (n *ReLUNet) Label(x []float64) int {
	var o0, o1 float64
	for h := 0; h < n.Width; h++ {
		a := 0.0
		row := n.W1[h*n.Dim : (h+1)*n.Dim]
		for j, v := range x {
			a += row[j] * v
		}
		if a > 0 {
			o0 += n.W2[h] * a
			o1 += n.W2[n.Width+h] * a
		}
	}
	if o1 > o0 {
		return 1
	}
	return 0
}

// ReLU generates ReLU1 (name "relu1") or ReLU2 ("relu2"): points uniform
// in [-1,1]^Dim (o.Points = PointsUniform, the default, as the authors'
// layer_relu_data draws them) or standard normal (PointsNormal, the paper's
// "10-dimensional normal distribution"), labelled by a random ReLUNet of
// the given Width (100 by default, the authors' README); labels flipped
// with probability o.Noise. The two sets differ by the name mixed into
// every stream seed, so each seed gives two different networks.
func ReLU(name string, o Options) (train, test *Set, err error) {
	if name != "relu1" && name != "relu2" {
		return nil, nil, fmt.Errorf("ReLU set %q: want relu1 or relu2", name)
	}
	o = o.withDefaults()
	if err := checkNoise(o.Noise); err != nil {
		return nil, nil, err
	}
	var draw func(*rand.Rand) float64
	switch o.Points {
	case PointsUniform:
		draw = uniform
	case PointsNormal:
		draw = func(r *rand.Rand) float64 { return r.NormFloat64() }
	default:
		return nil, nil, fmt.Errorf("ReLU set %s: points %q, want %s or %s", name, o.Points, PointsUniform, PointsNormal)
	}
	net := NewReLUNet(o.Dim, o.Width, stream(o.Seed, name, "task"))
	train = genPoints(name, o.NTrain, o.Dim, stream(o.Seed, name, "train"), draw, net.Label)
	test = genPoints(name, o.NTest, o.Dim, stream(o.Seed, name, "test"), draw, net.Label)
	flipLabels(train, o.Noise, stream(o.Seed, name, "noise-train"))
	flipLabels(test, o.Noise, stream(o.Seed, name, "noise-test"))
	return train, test, nil
}
