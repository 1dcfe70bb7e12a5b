package optimizer

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"gorgonia.org/tensor"
)

// State files are little-endian binary:
//
//	magic "PLOPTST\x00", version uint32 (1), optimizer name (uint32 length + bytes),
//	lr float64, epoch int64, total epochs int64, parameter count uint32, then per
//	parameter: dtype uint8 (4 float32, 8 float64), rank uint32, dims uint64...,
//	step int64, buffer count uint32, buffers (n raw IEEE-754 values each).
//
// NeuroPlastic buffers are a, m, v (+ bm, bv with a hybrid base); SGD its
// momentum buffer; Adam/AdamW m, v. Values are stored bit for bit, so a
// loaded optimizer continues exactly like an uninterrupted one.
const (
	stateMagic   = "PLOPTST\x00"
	stateVersion = 1
)

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
	bw := bufio.NewWriter(w)
	var hdr []byte
	hdr = append(hdr, stateMagic...)
	hdr = binary.LittleEndian.AppendUint32(hdr, stateVersion)
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(len(st.name)))
	hdr = append(hdr, st.name...)
	hdr = binary.LittleEndian.AppendUint64(hdr, math.Float64bits(st.lr))
	hdr = binary.LittleEndian.AppendUint64(hdr, uint64(st.epoch))
	hdr = binary.LittleEndian.AppendUint64(hdr, uint64(st.total))
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(len(st.params)))
	if _, err := bw.Write(hdr); err != nil {
		return err
	}
	for _, p := range st.params {
		var b []byte
		b = append(b, p.dtype)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(p.shape)))
		for _, d := range p.shape {
			b = binary.LittleEndian.AppendUint64(b, uint64(d))
		}
		b = binary.LittleEndian.AppendUint64(b, uint64(p.step))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(p.bufs)))
		if _, err := bw.Write(b); err != nil {
			return err
		}
		for _, buf := range p.bufs {
			if _, err := bw.Write(buf); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}

var errTruncated = errors.New("optimizer state: file is truncated")

func readFull(r io.Reader, n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, errTruncated
		}
		return nil, err
	}
	return b, nil
}

func readState(r io.Reader) (*stateFile, error) {
	br := bufio.NewReader(r)
	b, err := readFull(br, len(stateMagic)+8)
	if err != nil {
		return nil, err
	}
	if string(b[:len(stateMagic)]) != stateMagic {
		return nil, errors.New("optimizer state: not an optimizer state file (bad magic)")
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v != stateVersion {
		return nil, fmt.Errorf("optimizer state: version %d, this build reads version %d", v, stateVersion)
	}
	nl := binary.LittleEndian.Uint32(b[12:])
	if nl > 64 {
		return nil, fmt.Errorf("optimizer state: corrupt header (name length %d)", nl)
	}
	nb, err := readFull(br, int(nl)+8*3+4)
	if err != nil {
		return nil, err
	}
	st := &stateFile{name: string(nb[:nl])}
	nb = nb[nl:]
	st.lr = math.Float64frombits(binary.LittleEndian.Uint64(nb))
	st.epoch = int64(binary.LittleEndian.Uint64(nb[8:]))
	st.total = int64(binary.LittleEndian.Uint64(nb[16:]))
	np := binary.LittleEndian.Uint32(nb[24:])
	if np > 1<<20 {
		return nil, fmt.Errorf("optimizer state: corrupt header (%d parameters)", np)
	}
	st.params = make([]savedParam, np)
	for i := range st.params {
		h, err := readFull(br, 5)
		if err != nil {
			return nil, err
		}
		p := &st.params[i]
		p.dtype = h[0]
		if p.dtype != 4 && p.dtype != 8 {
			return nil, fmt.Errorf("optimizer state: parameter %d has unknown dtype code %d", i, p.dtype)
		}
		rank := binary.LittleEndian.Uint32(h[1:])
		if rank > 16 {
			return nil, fmt.Errorf("optimizer state: parameter %d has rank %d", i, rank)
		}
		db, err := readFull(br, 8*int(rank)+12)
		if err != nil {
			return nil, err
		}
		n := 1
		p.shape = make([]int, rank)
		for j := range p.shape {
			d := binary.LittleEndian.Uint64(db[8*j:])
			if d > 1<<40 {
				return nil, fmt.Errorf("optimizer state: parameter %d has dimension %d", i, d)
			}
			p.shape[j] = int(d)
			n *= int(d)
		}
		p.step = int64(binary.LittleEndian.Uint64(db[8*rank:]))
		nbuf := binary.LittleEndian.Uint32(db[8*rank+8:])
		if nbuf > 8 {
			return nil, fmt.Errorf("optimizer state: parameter %d has %d buffers", i, nbuf)
		}
		p.bufs = make([][]byte, nbuf)
		for j := range p.bufs {
			if p.bufs[j], err = readFull(br, n*int(p.dtype)); err != nil {
				return nil, err
			}
		}
	}
	if _, err := br.ReadByte(); err != io.EOF {
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
			return fmt.Errorf("optimizer state: parameter %d (%s) has %d buffers, this configuration needs %d (different --np-hybrid-base?)", i, pr.name, len(sp.bufs), nbuf)
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
