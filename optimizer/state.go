package optimizer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"gorgonia.org/tensor"

	"github.com/plasticity-lab/plastic/internal/binfmt"
)

// State files (version 2) use the container of internal/binfmt: magic
// "PLOPTST\x00", version uint32 (2), JSON metadata {"optimizer", "lr",
// "epoch", "total_epochs"} (Go writes float64s in JSON so that they read
// back bit for bit), a body, and a CRC-32 of all bytes before it. The body,
// little-endian: parameter count uint32, then per parameter: dtype uint8 (4
// float32, 8 float64), rank uint32, dims uint64..., step int64, buffer
// count uint32, buffers (n raw IEEE-754 values each).
//
// Version 1 (before the common container) had no metadata block and no
// checksum: after magic and version came the optimizer name (uint32 length
// + bytes), lr float64, epoch int64, total epochs int64 and the same body.
// Checkpoints written then embed it, so it is still read.
//
// NeuroPlastic buffers are a, m, v (+ bm, bv with a hybrid base); SGD its
// momentum buffer; Adam/AdamW m, v. Values are stored bit for bit, so a
// loaded optimizer continues exactly like an uninterrupted one.
const (
	stateMagic   = "PLOPTST\x00"
	stateVersion = 2
	// maxState bounds what LoadState reads (1 TiB: the dimension checks
	// below are the real bound).
	maxState = 1 << 40
)

type stateMeta struct {
	Optimizer   string  `json:"optimizer"`
	LR          float64 `json:"lr"`
	Epoch       int64   `json:"epoch"`
	TotalEpochs int64   `json:"total_epochs"`
}

type savedParam struct {
	dtype byte
	shape []int
	step  int64
	bufs  [][]byte // raw little-endian values
}

type stateFile struct {
	name   string
	lr     float64
	epoch  int64
	total  int64
	params []savedParam
}

func putBuf32(dst []byte, x []float32) []byte {
	for _, v := range x {
		dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(v))
	}
	return dst
}

func putBuf64(dst []byte, x []float64) []byte {
	for _, v := range x {
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
	}
	return dst
}

func getBuf32(x []float32, src []byte) {
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
	}
}

func getBuf64(x []float64, src []byte) {
	for i := range x {
		x[i] = math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:]))
	}
}

func writeState(w io.Writer, st *stateFile) error {
	meta := stateMeta{Optimizer: st.name, LR: st.lr, Epoch: st.epoch, TotalEpochs: st.total}
	b, err := binfmt.Marshal(stateMagic, stateVersion, meta, func(e *binfmt.Encoder) error {
		e.U32(uint32(len(st.params)))
		for _, p := range st.params {
			e.U8(p.dtype)
			e.U32(uint32(len(p.shape)))
			for _, d := range p.shape {
				e.U64(uint64(d))
			}
			e.U64(uint64(p.step))
			e.U32(uint32(len(p.bufs)))
			for _, buf := range p.bufs {
				e.Raw(buf)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("optimizer state: %w", err)
	}
	_, err = w.Write(b)
	return err
}

func readState(r io.Reader) (*stateFile, error) {
	data, err := binfmt.ReadAll(r, maxState)
	if err != nil {
		return nil, fmt.Errorf("optimizer state: %w", err)
	}
	st := &stateFile{}
	var d *binfmt.Decoder
	if v, ok := binfmt.Version(data, stateMagic); ok && v == 1 {
		// Version 1: name, lr, epoch, total epochs, then the body.
		d = binfmt.NewDecoder(data[len(stateMagic)+4:])
		nl := d.U32()
		if nl > 64 {
			return nil, fmt.Errorf("optimizer state: corrupt header (name length %d)", nl)
		}
		st.name = string(d.Raw(int(nl)))
		st.lr = math.Float64frombits(d.U64())
		st.epoch, st.total = int64(d.U64()), int64(d.U64())
	} else {
		f, err := binfmt.Open(data, stateMagic, "optimizer state file", 1, stateVersion)
		if err != nil {
			return nil, fmt.Errorf("optimizer state: %w", err)
		}
		var meta stateMeta
		if err := f.DecodeMeta(&meta); err != nil {
			return nil, fmt.Errorf("optimizer state: %w", err)
		}
		st.name, st.lr, st.epoch, st.total = meta.Optimizer, meta.LR, meta.Epoch, meta.TotalEpochs
		d = f.Body
	}
	truncated := func() error {
		return fmt.Errorf("optimizer state: file is truncated (%v)", d.Err())
	}
	np := d.U32()
	if d.Err() != nil {
		return nil, truncated()
	}
	if np > 1<<20 {
		return nil, fmt.Errorf("optimizer state: corrupt header (%d parameters)", np)
	}
	st.params = make([]savedParam, np)
	for i := range st.params {
		p := &st.params[i]
		p.dtype = d.U8()
		rank := d.U32()
		if d.Err() != nil {
			return nil, truncated()
		}
		if p.dtype != 4 && p.dtype != 8 {
			return nil, fmt.Errorf("optimizer state: parameter %d has unknown dtype code %d", i, p.dtype)
		}
		if rank > 16 {
			return nil, fmt.Errorf("optimizer state: parameter %d has rank %d", i, rank)
		}
		n := 1
		p.shape = make([]int, rank)
		for j := range p.shape {
			dim := d.U64()
			if dim > 1<<40 {
				return nil, fmt.Errorf("optimizer state: parameter %d has dimension %d", i, dim)
			}
			p.shape[j] = int(dim)
			n *= int(dim)
		}
		p.step = int64(d.U64())
		nbuf := d.U32()
		if d.Err() != nil {
			return nil, truncated()
		}
		if nbuf > 8 {
			return nil, fmt.Errorf("optimizer state: parameter %d has %d buffers", i, nbuf)
		}
		p.bufs = make([][]byte, nbuf)
		for j := range p.bufs {
			p.bufs[j] = d.Raw(n * int(p.dtype))
		}
		if d.Err() != nil {
			return nil, truncated()
		}
	}
	if d.Len() != 0 {
		return nil, errors.New("optimizer state: trailing data after the last parameter")
	}
	return st, nil
}

func dtypeCode(dt tensor.Dtype) byte {
	if dt == tensor.Float32 {
		return 4
	}
	return 8
}

func shapeString(s []int) string { return fmt.Sprint(s) }

// checkState compares a loaded state with the optimizer's parameters.
func checkState(st *stateFile, name string, params []param, nbuf int) error {
	if st.name != name {
		return fmt.Errorf("optimizer state: saved by %q, cannot load into %q", st.name, name)
	}
	if len(st.params) != len(params) {
		return fmt.Errorf("optimizer state: has %d parameters, the model has %d", len(st.params), len(params))
	}
	for i, sp := range st.params {
		pr := &params[i]
		if sp.dtype != dtypeCode(pr.dtype) {
			return fmt.Errorf("optimizer state: parameter %d (%s) saved as float%d, model has %v", i, pr.name, 8*int(sp.dtype), pr.dtype)
		}
		if shapeString(sp.shape) != shapeString(pr.shape) {
			return fmt.Errorf("optimizer state: parameter %d (%s) has shape %v in the state, %v in the model", i, pr.name, sp.shape, pr.shape)
		}
		if len(sp.bufs) != nbuf {
			return fmt.Errorf("optimizer state: parameter %d (%s) has %d buffers, this configuration needs %d (a different np-hybrid-base?)", i, pr.name, len(sp.bufs), nbuf)
		}
	}
	return nil
}

// --- NeuroPlastic ---

func (o *NeuroPlastic) nbuf() int {
	if o.hybrid() {
		return 5
	}
	return 3
}

// SaveState writes the optimizer state (before any step: an empty state).
func (o *NeuroPlastic) SaveState(w io.Writer) error {
	st := &stateFile{name: NameNeuroPlastic, lr: o.lr, epoch: int64(o.epoch), total: int64(o.total)}
	for i := range o.slots {
		s := &o.slots[i]
		pr := &o.b.params[i]
		sp := savedParam{dtype: dtypeCode(pr.dtype), shape: pr.shape, step: s.step}
		if t := s.t32; t != nil {
			for _, b := range [][]float32{t.a, t.m, t.v, t.bm, t.bv}[:o.nbuf()] {
				sp.bufs = append(sp.bufs, putBuf32(nil, b))
			}
		} else {
			t := s.t64
			for _, b := range [][]float64{t.a, t.m, t.v, t.bm, t.bv}[:o.nbuf()] {
				sp.bufs = append(sp.bufs, putBuf64(nil, b))
			}
		}
		st.params = append(st.params, sp)
	}
	return writeState(w, st)
}

// LoadState reads a state written by SaveState. If the parameters are known
// (after Init or a Step) it is checked and applied at once; otherwise at the
// first Step, which then fails with the same errors.
func (o *NeuroPlastic) LoadState(r io.Reader) error {
	st, err := readState(r)
	if err != nil {
		return err
	}
	if st.name != NameNeuroPlastic {
		return fmt.Errorf("optimizer state: saved by %q, cannot load into %q", st.name, NameNeuroPlastic)
	}
	if o.slots == nil {
		o.pending = st
		o.lr, o.epoch, o.total = st.lr, int(st.epoch), int(st.total)
		return nil
	}
	return o.applyState(st)
}

func (o *NeuroPlastic) applyState(st *stateFile) error {
	if err := checkState(st, NameNeuroPlastic, o.b.params, o.nbuf()); err != nil {
		return err
	}
	for i := range o.slots {
		s := &o.slots[i]
		sp := &st.params[i]
		s.step = sp.step
		if t := s.t32; t != nil {
			for j, b := range [][]float32{t.a, t.m, t.v, t.bm, t.bv}[:o.nbuf()] {
				getBuf32(b, sp.bufs[j])
			}
		} else {
			t := s.t64
			for j, b := range [][]float64{t.a, t.m, t.v, t.bm, t.bv}[:o.nbuf()] {
				getBuf64(b, sp.bufs[j])
			}
		}
	}
	o.lr, o.epoch, o.total = st.lr, int(st.epoch), int(st.total)
	return nil
}

// --- baselines ---

// SaveState writes the optimizer state (before any step: an empty state).
func (o *Baseline) SaveState(w io.Writer) error {
	st := &stateFile{name: o.cfg.Name, lr: o.lr, epoch: int64(o.epoch), total: int64(o.total)}
	for i := range o.slots {
		s := &o.slots[i]
		pr := &o.b.params[i]
		sp := savedParam{dtype: dtypeCode(pr.dtype), shape: pr.shape, step: s.step}
		if t := s.t32; t != nil {
			for _, b := range [][]float32{t.m, t.v}[:o.nbuf()] {
				sp.bufs = append(sp.bufs, putBuf32(nil, b))
			}
		} else {
			t := s.t64
			for _, b := range [][]float64{t.m, t.v}[:o.nbuf()] {
				sp.bufs = append(sp.bufs, putBuf64(nil, b))
			}
		}
		st.params = append(st.params, sp)
	}
	return writeState(w, st)
}

// LoadState reads a state written by SaveState (see NeuroPlastic.LoadState).
func (o *Baseline) LoadState(r io.Reader) error {
	st, err := readState(r)
	if err != nil {
		return err
	}
	if st.name != o.cfg.Name {
		return fmt.Errorf("optimizer state: saved by %q, cannot load into %q", st.name, o.cfg.Name)
	}
	if o.slots == nil {
		o.pending = st
		o.lr, o.epoch, o.total = st.lr, int(st.epoch), int(st.total)
		return nil
	}
	return o.applyState(st)
}

func (o *Baseline) applyState(st *stateFile) error {
	if err := checkState(st, o.cfg.Name, o.b.params, o.nbuf()); err != nil {
		return err
	}
	for i := range o.slots {
		s := &o.slots[i]
		sp := &st.params[i]
		s.step = sp.step
		if t := s.t32; t != nil {
			for j, b := range [][]float32{t.m, t.v}[:o.nbuf()] {
				getBuf32(b, sp.bufs[j])
			}
		} else {
			t := s.t64
			for j, b := range [][]float64{t.m, t.v}[:o.nbuf()] {
				getBuf64(b, sp.bufs[j])
			}
		}
	}
	o.lr, o.epoch, o.total = st.lr, int(st.epoch), int(st.total)
	return nil
}
