package baseline

// Network file format ("PLASTRNN", version 1), in the container of
// internal/binfmt (magic, version, JSON metadata, body, CRC-32), all
// integers little-endian:
//
//	magic      8 bytes  "PLASTRNN"
//	version    uint32   1
//	metaLen    uint32   length of the meta block
//	meta       metaLen bytes of JSON: {"config": {...sizes...}, "info": {...provenance...}}
//	A          |V|*n   float64   input weights, row-major (|V| x n)
//	InMask     |V|*n   uint8     0/1 input mask
//	GraphMask  |V|*|V| uint8     0/1 graph mask (zero diagonal)
//	W          |V|*|V| float64   graph weights (W[i][j] is the edge j -> i)
//	U          m*|V|   float64   output weights
//	B          |V|     float64   node biases
//	C          m       float64   output biases
//	crc        uint32   CRC-32 (IEEE) of every byte before it
//
// The sizes come from the meta block's config (inputs n, labels m, nodes
// |V|, p, cap k, rounds T, multiplicative, input_ones, firing), so a
// reader knows every array's length before reading it. "firing" is "topk"
// or "nonzero" (models.Firing). Files written before it have
// "topk_firing": true or false instead (false then meant the paper's
// definition, the default of that time), or neither (older still: only the
// paper's definition existed); both read as what they were trained with. Any simple RNN can
// be stored this way, whether rules or gradient descent trained it. Files
// are written to a temporary file in the same folder, synced and renamed
// over the target, so a reader sees the old file or the new one, never half
// of one; non-finite weights are refused at save time.

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/plasticity-lab/plastic/internal/atomicfile"
	"github.com/plasticity-lab/plastic/internal/binfmt"
	"github.com/plasticity-lab/plastic/models"
)

const (
	netMagic   = "PLASTRNN"
	netVersion = 1
	// maxNetFile bounds what ReadRNN reads: 2^31 weights of 9 bytes.
	maxNetFile = 9 << 31
)

// NetInfo is the provenance stored with a network.
type NetInfo struct {
	Trainer string  `json:"trainer"`            // e.g. "gd-all", "gd-output", "rules:perceptron"
	Dataset string  `json:"dataset,omitempty"`  // data set it was trained on
	Epochs  int     `json:"epochs,omitempty"`   // passes over the training set
	TestAcc float64 `json:"test_acc,omitempty"` // accuracy on the test set at save time
	Seed    int64   `json:"seed"`               // seed of masks, initial weights and order
	Run     string  `json:"run,omitempty"`      // run id that produced it
}

type netConfig struct {
	Inputs         int     `json:"inputs"`
	Labels         int     `json:"labels"`
	Nodes          int     `json:"nodes"`
	P              float64 `json:"p"`
	Cap            int     `json:"cap"`
	T              int     `json:"rounds"`
	Multiplicative bool    `json:"multiplicative"`
	InputOnes      bool    `json:"input_ones"`
	// Firing is written by this version; TopKFiring only read, from files
	// written before it.
	Firing     *models.Firing `json:"firing,omitempty"`
	TopKFiring *bool          `json:"topk_firing,omitempty"`
}

// firing resolves the firing definition of a file's config (see the
// format comment for files written before the "firing" field).
func (c netConfig) firing() (models.Firing, error) {
	legacy := models.FiringNonzero
	if c.TopKFiring != nil && *c.TopKFiring {
		legacy = models.FiringTopK
	}
	switch {
	case c.Firing != nil && c.TopKFiring != nil && *c.Firing != legacy:
		return 0, fmt.Errorf("config has firing %q and topk_firing %v, which disagree", *c.Firing, *c.TopKFiring)
	case c.Firing != nil:
		return *c.Firing, nil
	}
	return legacy, nil
}

type netMeta struct {
	Config netConfig `json:"config"`
	Info   NetInfo   `json:"info"`
}

// WriteRNN writes net and info in the network file format.
func WriteRNN(w io.Writer, net *models.RNN, info NetInfo) error {
	b, err := marshalRNN(net, info)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// marshalRNN is the network file of net.
func marshalRNN(net *models.RNN, info NetInfo) ([]byte, error) {
	if err := checkNet(net); err != nil {
		return nil, err
	}
	for _, s := range []struct {
		name string
		v    []float64
	}{{"A", net.A}, {"W", net.W}, {"U", net.U}, {"b", net.B}, {"c", net.C}} {
		for i, x := range s.v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, fmt.Errorf("network file: %s[%d] = %v is not finite; refusing to save", s.name, i, x)
			}
		}
	}
	c := net.RNNConfig
	firing := c.Firing
	meta := netMeta{Config: netConfig{Inputs: c.Inputs, Labels: c.Labels, Nodes: c.Nodes, P: c.P,
		Cap: c.Cap, T: c.T, Multiplicative: c.Multiplicative, InputOnes: c.InputOnes, Firing: &firing}, Info: info}
	b, err := binfmt.Marshal(netMagic, netVersion, meta, func(e *binfmt.Encoder) error {
		e.Reserve(8*(len(net.A)+len(net.W)+len(net.U)+len(net.B)+len(net.C)) + len(net.InMask) + len(net.GraphMask) + 4)
		e.F64s(net.A)
		e.Bools(net.InMask)
		e.Bools(net.GraphMask)
		e.F64s(net.W)
		e.F64s(net.U)
		e.F64s(net.B)
		e.F64s(net.C)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("network file: %w", err)
	}
	return b, nil
}

func checkNet(net *models.RNN) error {
	if net == nil {
		return errors.New("network file: nil network")
	}
	if err := net.Validate(); err != nil {
		return fmt.Errorf("network file: %w", err)
	}
	v, n, m := net.Nodes, net.Inputs, net.Labels
	for _, s := range []struct {
		name string
		got  int
		want int
	}{{"A", len(net.A), v * n}, {"InMask", len(net.InMask), v * n}, {"GraphMask", len(net.GraphMask), v * v},
		{"W", len(net.W), v * v}, {"U", len(net.U), m * v}, {"b", len(net.B), v}, {"c", len(net.C), m}} {
		if s.got != s.want {
			return fmt.Errorf("network file: %s has %d values, want %d", s.name, s.got, s.want)
		}
	}
	return nil
}

// ReadRNN reads a network written by WriteRNN; name labels errors.
func ReadRNN(r io.Reader, name string) (*models.RNN, NetInfo, error) {
	fail := func(format string, a ...any) (*models.RNN, NetInfo, error) {
		return nil, NetInfo{}, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, a...))
	}
	raw, err := binfmt.ReadAll(r, maxNetFile)
	if err != nil {
		return fail("%v", err)
	}
	f, err := binfmt.Open(raw, netMagic, "network file", netVersion)
	if err != nil {
		return fail("%v", err)
	}
	var meta netMeta
	if err := f.DecodeMeta(&meta); err != nil {
		return fail("%v", err)
	}
	c := meta.Config
	firing, err := c.firing()
	if err != nil {
		return fail("%v", err)
	}
	cfg := models.RNNConfig{Inputs: c.Inputs, Labels: c.Labels, Nodes: c.Nodes, P: c.P, Cap: c.Cap, T: c.T,
		Multiplicative: c.Multiplicative, InputOnes: c.InputOnes, Firing: firing}
	if err := cfg.Validate(); err != nil {
		return fail("%v", err)
	}
	v, n, m := cfg.Nodes, cfg.Inputs, cfg.Labels
	if int64(v)*int64(v)+int64(v)*int64(n) > 1<<31 {
		return fail("network of %d nodes and %d inputs is too large", v, n)
	}
	d := f.Body
	if want := 8*(v*n+v*v+m*v+v+m) + v*n + v*v; d.Len() != want {
		return fail("the body holds %d bytes, a network of this config %d (truncated or trailing bytes)", d.Len(), want)
	}
	getF := func(k int) []float64 {
		out := make([]float64, k)
		d.F64s(out)
		return out
	}
	getMask := func(what string, k int) []float64 {
		b := d.Raw(k)
		out := make([]float64, k)
		for i, x := range b {
			if x > 1 && err == nil {
				err = fmt.Errorf("%s[%d] = %d, want 0 or 1", what, i, x)
			}
			out[i] = float64(x)
		}
		return out
	}
	net := &models.RNN{RNNConfig: cfg}
	net.A = getF(v * n)
	net.InMask = getMask("input mask", v*n)
	net.GraphMask = getMask("graph mask", v*v)
	net.W = getF(v * v)
	net.U = getF(m * v)
	net.B = getF(v)
	net.C = getF(m)
	if err = errors.Join(err, d.Finish()); err != nil {
		return fail("%v", err)
	}
	for i := 0; i < v; i++ {
		if net.GraphMask[i*v+i] != 0 {
			return fail("graph mask has a self-loop at node %d", i)
		}
	}
	return net, meta.Info, nil
}

// SaveRNN writes net to path atomically (temporary file in the same folder,
// sync, rename), creating the folder if needed.
func SaveRNN(path string, net *models.RNN, info NetInfo) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := marshalRNN(net, info)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return atomicfile.Write(path, b)
}

// LoadRNN reads a network file written by SaveRNN.
func LoadRNN(path string) (*models.RNN, NetInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, NetInfo{}, fmt.Errorf("network file: %w", err)
	}
	defer f.Close()
	return ReadRNN(f, path)
}
