package classify

import (
	"fmt"
	"math/rand"
	"slices"
	"strings"

	"github.com/plasticity-lab/plastic/data"
)

// Datasets are the data sets the classifiers train on: the NeuroPlastic
// paper's, and "synthetic" (random data shaped like the model's input, for
// timing).
var Datasets = []string{"mnist", "fashion-mnist", "cifar10", "synthetic"}

// DataOptions say which data a training run reads.
type DataOptions struct {
	Dataset string // one of Datasets
	Model   string // models.New's name (the shape of synthetic data)
	Dir     string // data folder (data.Options.Dir)
	// NTrain and NTest cap the examples (0: all; synthetic: 2048 and 512).
	NTrain, NTest int
	// Fraction in (0,1] keeps that random fraction of the training set
	// (the low-data experiments).
	Fraction float64
	Seed     int64
}

// LoadData loads and preprocesses the data of a training run as the
// NeuroPlastic authors do: MNIST and Fashion-MNIST scaled to [0,1] then
// (x-0.5)/0.5; CIFAR-10 normalised per channel; synthetic N(0,1) features
// with uniform labels in 0..9, shaped [3,32,32] ([1,28,28] for the MLP).
// idx holds the training indices kept by Fraction (nil when all are used).
func LoadData(o DataOptions) (trainSet, testSet *data.Set, idx []int, err error) {
	switch o.Dataset {
	case "synthetic":
		shape := []int{3, 32, 32}
		if o.Model == "mlp" {
			shape = []int{1, 28, 28}
		}
		nTrain, nTest := o.NTrain, o.NTest
		if nTrain == 0 {
			nTrain = 2048
		}
		if nTest == 0 {
			nTest = 512
		}
		rng := rand.New(rand.NewSource(o.Seed))
		trainSet, testSet = syntheticSet(shape, nTrain, rng), syntheticSet(shape, nTest, rng)
	case "mnist", "fashion-mnist", "cifar10":
		trainSet, testSet, err = data.Load(o.Dataset, data.Options{Dir: o.Dir, Seed: o.Seed, NTrain: o.NTrain, NTest: o.NTest})
		if err != nil {
			return nil, nil, nil, err
		}
		switch o.Dataset {
		case "cifar10":
			if err := data.NormalizeChannels(trainSet, data.CIFARMean, data.CIFARStd); err != nil {
				return nil, nil, nil, err
			}
			if err := data.NormalizeChannels(testSet, data.CIFARMean, data.CIFARStd); err != nil {
				return nil, nil, nil, err
			}
		default:
			data.Standardize(trainSet, 0.5, 0.5)
			data.Standardize(testSet, 0.5, 0.5)
		}
	default:
		return nil, nil, nil, fmt.Errorf("classify: data set %q: want one of %s", o.Dataset, strings.Join(Datasets, ", "))
	}
	if o.Fraction < 1 {
		if trainSet, idx, err = data.Fraction(trainSet, o.Fraction, rand.New(rand.NewSource(o.Seed))); err != nil {
			return nil, nil, nil, err
		}
	}
	return trainSet, testSet, idx, nil
}

// syntheticSet is n examples of N(0,1) features with uniform labels in 0..9.
func syntheticSet(shape []int, n int, rng *rand.Rand) *data.Set {
	dim := 1
	for _, d := range shape {
		dim *= d
	}
	s := &data.Set{Name: "synthetic", N: n, Dim: dim, Classes: 10, Shape: slices.Clone(shape), X: make([]float32, n*dim), Y: make([]int, n)}
	for i := range s.X {
		s.X[i] = float32(rng.NormFloat64())
	}
	for i := range s.Y {
		s.Y[i] = rng.Intn(10)
	}
	return s
}
