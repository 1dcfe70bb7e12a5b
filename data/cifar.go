package data

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
)

// CIFAR-10 binary format: records of 1 label byte and 3072 pixel bytes
// (1024 red, 1024 green, 1024 blue, each 32x32 row-major).
const (
	cifarSide   = 32
	cifarPixels = 3 * cifarSide * cifarSide
	cifarRecord = 1 + cifarPixels
)

// CIFARTrainFiles and CIFARTestFile are the batch files of the binary
// version of CIFAR-10.
var (
	CIFARTrainFiles = []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"}
	CIFARTestFile   = "test_batch.bin"
)

// Per-channel statistics of the CIFAR-10 training images, used to
// normalise them (the NeuroPlastic paper's protocol).
var (
	CIFARMean = []float32{0.491, 0.482, 0.447}
	CIFARStd  = []float32{0.247, 0.243, 0.262}
)

// ReadCIFARFiles reads CIFAR-10 binary batch files into one set (pixels
// scaled by 1/255, channel-major [3 32 32] examples). A file whose size is
// not a positive multiple of 3073 bytes, or a label above 9, fails with the
// file name.
func ReadCIFARFiles(name string, paths ...string) (*Set, error) {
	var raw [][]byte
	n := 0
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		if len(b) == 0 || len(b)%cifarRecord != 0 {
			return nil, fmt.Errorf("%s: %d bytes is not a whole number of %d-byte CIFAR-10 records (truncated or not a CIFAR-10 binary batch)", p, len(b), cifarRecord)
		}
		raw = append(raw, b)
		n += len(b) / cifarRecord
	}
	s := &Set{Name: name, X: make([]float32, n*cifarPixels), Y: make([]int, n), N: n, Dim: cifarPixels, Classes: 10, Shape: []int{3, cifarSide, cifarSide}}
	i := 0
	for f, b := range raw {
		for off := 0; off < len(b); off += cifarRecord {
			if b[off] > 9 {
				return nil, fmt.Errorf("%s: record %d has label %d (want 0..9)", paths[f], off/cifarRecord, b[off])
			}
			s.Y[i] = int(b[off])
			x := s.X[i*cifarPixels : (i+1)*cifarPixels]
			for j, v := range b[off+1 : off+cifarRecord] {
				x[j] = float32(v) / 255
			}
			i++
		}
	}
	return s, nil
}

// cifarDir returns the folder of the .bin files: dataDir/cifar10, or the
// cifar-10-batches-bin folder inside it as the official archive unpacks.
func cifarDir(dataDir string) string {
	base := filepath.Join(dataDir, "cifar10")
	if _, err := os.Stat(filepath.Join(base, CIFARTestFile)); err != nil {
		alt := filepath.Join(base, "cifar-10-batches-bin")
		if _, err := os.Stat(filepath.Join(alt, CIFARTestFile)); err == nil {
			return alt
		}
	}
	return base
}

func loadCIFAR(dataDir string) (train, test *Set, err error) {
	dir := cifarDir(dataDir)
	var paths []string
	for _, f := range append(append([]string{}, CIFARTrainFiles...), CIFARTestFile) {
		p := filepath.Join(dir, f)
		if _, err := os.Stat(p); err != nil {
			return nil, nil, missingFileError("cifar10", p)
		}
		paths = append(paths, p)
	}
	if train, err = ReadCIFARFiles("cifar10", paths[:5]...); err != nil {
		return nil, nil, err
	}
	if test, err = ReadCIFARFiles("cifar10", paths[5]); err != nil {
		return nil, nil, err
	}
	train.Files, test.Files = paths[:5], paths[5:]
	return train, test, nil
}

// Augment applies the standard CIFAR-10 training augmentation to batches of
// [C H W] images in place: a random crop of the image zero-padded by Pad
// pixels on each side, then a horizontal flip with probability 1/2. The
// random draws depend only on the seed, the epoch and the batch index, so a
// resumed or re-run training sees the same augmented batches.
type Augment struct {
	Pad  int
	Flip bool
	// Fill is the value of padded pixels per channel: 0 for [0,1] pixels,
	// (0-mean)/std after NormalizeChannels (see CIFARAugment).
	Fill  []float32
	Shape []int // [C H W]

	seed    int64
	src     rand.Source
	rng     *rand.Rand
	scratch []float32
}

// NewAugment returns an augmentation for images of the given [C H W] shape.
func NewAugment(seed int64, shape []int, pad int, flip bool, fill []float32) *Augment {
	src := rand.NewSource(seed)
	return &Augment{Pad: pad, Flip: flip, Fill: fill, Shape: shape, seed: seed, src: src, rng: rand.New(src),
		scratch: make([]float32, shape[0]*shape[1]*shape[2])}
}

// CIFARAugment is the NeuroPlastic paper's CIFAR-10 augmentation (pad 4
// crop, horizontal flip) for images already normalised with CIFARMean and
// CIFARStd: padded pixels are black before normalisation.
func CIFARAugment(seed int64) *Augment {
	fill := make([]float32, 3)
	for c := range fill {
		fill[c] = (0 - CIFARMean[c]) / CIFARStd[c]
	}
	return NewAugment(seed, []int{3, cifarSide, cifarSide}, 4, true, fill)
}

// Apply augments the first n examples of x (a batch gathered by a Batcher)
// for the given epoch and batch index.
func (a *Augment) Apply(epoch, batch int, x []float32, n int) {
	a.src.Seed(streamSeed(a.seed, "augment", int64(epoch)<<32|int64(batch)))
	C, H, W := a.Shape[0], a.Shape[1], a.Shape[2]
	dim := C * H * W
	for e := 0; e < n; e++ {
		img := x[e*dim : (e+1)*dim]
		dy := a.rng.Intn(2*a.Pad+1) - a.Pad
		dx := a.rng.Intn(2*a.Pad+1) - a.Pad
		flip := a.Flip && a.rng.Intn(2) == 1
		copy(a.scratch, img)
		for c := 0; c < C; c++ {
			fill := float32(0)
			if c < len(a.Fill) {
				fill = a.Fill[c]
			}
			src := a.scratch[c*H*W : (c+1)*H*W]
			dst := img[c*H*W : (c+1)*H*W]
			for i := 0; i < H; i++ {
				si := i + dy
				for j := 0; j < W; j++ {
					jj := j
					if flip {
						jj = W - 1 - j
					}
					sj := jj + dx
					if si < 0 || si >= H || sj < 0 || sj >= W {
						dst[i*W+j] = fill
					} else {
						dst[i*W+j] = src[si*W+sj]
					}
				}
			}
		}
	}
}
