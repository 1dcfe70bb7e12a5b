package baseline

// Network file format ("PLASTRNN", version 1), all integers little-endian:
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
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/plasticity-lab/plastic/internal/atomicfile"
	"github.com/plasticity-lab/plastic/models"
)

const (
	netMagic   = "PLASTRNN"
	netVersion = 1
	maxMeta    = 1 << 20
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
	if err := checkNet(net); err != nil {
		return err
	}
	for _, s := range []struct {
		name string
		v    []float64
	}{{"A", net.A}, {"W", net.W}, {"U", net.U}, {"b", net.B}, {"c", net.C}} {
		for i, x := range s.v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("network file: %s[%d] = %v is not finite; refusing to save", s.name, i, x)
			}
		}
	}
	c := net.RNNConfig
	firing := c.Firing
	meta, err := json.Marshal(netMeta{Config: netConfig{Inputs: c.Inputs, Labels: c.Labels, Nodes: c.Nodes, P: c.P,
		Cap: c.Cap, T: c.T, Multiplicative: c.Multiplicative, InputOnes: c.InputOnes, Firing: &firing}, Info: info})
	if err != nil {
		return err
	}
	h := crc32.NewIEEE()
	bw := bufio.NewWriter(io.MultiWriter(w, h))
	bw.WriteString(netMagic)
	var b8 [8]byte
	binary.LittleEndian.PutUint32(b8[:4], netVersion)
	binary.LittleEndian.PutUint32(b8[4:], uint32(len(meta)))
	bw.Write(b8[:])
	bw.Write(meta)
	putF := func(v []float64) {
		for _, x := range v {
			binary.LittleEndian.PutUint64(b8[:], math.Float64bits(x))
			bw.Write(b8[:])
		}
	}
	putMask := func(v []float64) {
		for _, x := range v {
			if x != 0 {
				bw.WriteByte(1)
			} else {
				bw.WriteByte(0)
			}
		}
	}
	putF(net.A)
	putMask(net.InMask)
	putMask(net.GraphMask)
	putF(net.W)
	putF(net.U)
	putF(net.B)
	putF(net.C)
	if err := bw.Flush(); err != nil {
		return err
	}
	binary.LittleEndian.PutUint32(b8[:4], h.Sum32())
	_, err = w.Write(b8[:4])
	return err
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
	h := crc32.NewIEEE()
	br := bufio.NewReader(r)
	tr := io.TeeReader(br, h)
	fail := func(format string, a ...any) (*models.RNN, NetInfo, error) {
		return nil, NetInfo{}, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, a...))
	}
	var head [16]byte
	if _, err := io.ReadFull(tr, head[:]); err != nil {
		return fail("not a network file (too short: %v)", err)
	}
	if string(head[:8]) != netMagic {
		return fail("not a network file (magic %q, want %q)", head[:8], netMagic)
	}
	if v := binary.LittleEndian.Uint32(head[8:12]); v != netVersion {
		return fail("network file version %d, this build reads %d", v, netVersion)
	}
	ml := binary.LittleEndian.Uint32(head[12:16])
	if ml == 0 || ml > maxMeta {
		return fail("meta block of %d bytes is out of range", ml)
	}
	mb := make([]byte, ml)
	if _, err := io.ReadFull(tr, mb); err != nil {
		return fail("truncated meta block: %v", err)
	}
	var meta netMeta
	dec := json.NewDecoder(bytes.NewReader(mb))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&meta); err != nil {
		return fail("bad meta block: %v", err)
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
	net := &models.RNN{RNNConfig: cfg}
	getF := func(what string, k int) []float64 {
		if err != nil {
			return nil
		}
		buf := make([]byte, 8*k)
		if _, e := io.ReadFull(tr, buf); e != nil {
			err = fmt.Errorf("truncated %s: %v", what, e)
			return nil
		}
		out := make([]float64, k)
		for i := range out {
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(buf[8*i:]))
		}
		return out
	}
	getMask := func(what string, k int) []float64 {
		if err != nil {
			return nil
		}
		buf := make([]byte, k)
		if _, e := io.ReadFull(tr, buf); e != nil {
			err = fmt.Errorf("truncated %s: %v", what, e)
			return nil
		}
		out := make([]float64, k)
		for i, b := range buf {
			if b > 1 {
				err = fmt.Errorf("%s[%d] = %d, want 0 or 1", what, i, b)
				return nil
			}
			out[i] = float64(b)
		}
		return out
	}
	net.A = getF("A", v*n)
	net.InMask = getMask("input mask", v*n)
	net.GraphMask = getMask("graph mask", v*v)
	net.W = getF("W", v*v)
	net.U = getF("U", m*v)
	net.B = getF("b", v)
	net.C = getF("c", m)
	if err != nil {
		return fail("%v", err)
	}
	sum := h.Sum32()
	var tail [4]byte
	if _, err := io.ReadFull(br, tail[:]); err != nil {
		return fail("missing checksum: %v", err)
	}
	if got := binary.LittleEndian.Uint32(tail[:]); got != sum {
		return fail("checksum mismatch (file %08x, computed %08x): the file is corrupt", got, sum)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		return fail("trailing bytes after the checksum")
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
	var b bytes.Buffer
	if err := WriteRNN(&b, net, info); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return atomicfile.Write(path, b.Bytes())
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
