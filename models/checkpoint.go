package models

// Checkpoint file format, version 1 (all integers little-endian):
//
//	magic      8 bytes  "PLASTCKP"
//	version    uint32   1
//	metaLen    uint32   length of the meta block
//	meta       metaLen bytes of JSON: {"model", "input_shape", "classes", "trainer"}
//	                    ("trainer" is the trainer's own JSON object: epoch, best accuracy, ...)
//	count      uint32   number of tensors
//	count times:
//	  nameLen  uint16, then nameLen bytes of UTF-8 name (PyTorch-style: fc1.weight)
//	  kind     uint8    0 = parameter, 1 = buffer (batch-norm running statistics)
//	  ndim     uint8, then ndim x uint32 dims (row-major, batch-free)
//	  data     prod(dims) x float32 (IEEE 754, little-endian)
//	optLen     uint64   length of the optimizer state
//	optimizer  optLen bytes: the optimizer's SaveState blob (its own versioned format)
//	crc        uint32   CRC-32 (IEEE) of every byte before it
//
// Tensors appear in model order: the parameters (Classifier.Params), then the
// buffers (Classifier.Buffers). A reader checks names, kinds and shapes
// against the model it restores into. Files are written to a temporary file
// in the same folder, synced, then renamed over the target, so a checkpoint
// is either the old or the new one, never half written. Non-finite values
// are refused at save time: a diverged run never overwrites good weights.

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"

	"gorgonia.org/tensor"

	"github.com/plasticity-lab/plastic/internal/atomicfile"
)

const (
	ckptMagic   = "PLASTCKP"
	ckptVersion = 1
)

// StateSaver and StateLoader are the optimizer's side of a checkpoint.
type (
	StateSaver  interface{ SaveState(io.Writer) error }
	StateLoader interface{ LoadState(io.Reader) error }
)

type ckptMeta struct {
	Model      string          `json:"model"`
	InputShape []int           `json:"input_shape"`
	Classes    int             `json:"classes"`
	Trainer    json.RawMessage `json:"trainer,omitempty"`
}

// SaveCheckpoint writes m's tensors, the trainer state (any JSON-encodable
// value, may be nil) and the optimizer state (opt may be nil) to path
// atomically.
func SaveCheckpoint(path string, m Classifier, trainer any, opt StateSaver) error {
	var b bytes.Buffer
	b.WriteString(ckptMagic)
	le := binary.LittleEndian
	w32 := func(v uint32) { b.Write(le.AppendUint32(nil, v)) }
	w32(ckptVersion)
	meta := ckptMeta{Model: m.Name(), InputShape: m.InputShape(), Classes: m.Classes()}
	if trainer != nil {
		raw, err := json.Marshal(trainer)
		if err != nil {
			return fmt.Errorf("checkpoint %s: trainer state: %w", path, err)
		}
		meta.Trainer = raw
	}
	mj, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	w32(uint32(len(mj)))
	b.Write(mj)
	params, bufs := m.Params(), m.Buffers()
	w32(uint32(len(params) + len(bufs)))
	for i, t := range append(params, bufs...) {
		vals, ok := t.Value.Data().([]float32)
		if !ok {
			return fmt.Errorf("checkpoint %s: tensor %s is %v, only float32 models are saved", path, t.Name, t.Value.Dtype())
		}
		for j, v := range vals {
			if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
				return fmt.Errorf("checkpoint %s: tensor %s has %v at element %d; refusing to save non-finite weights", path, t.Name, v, j)
			}
		}
		b.Write(le.AppendUint16(nil, uint16(len(t.Name))))
		b.WriteString(t.Name)
		kind := byte(0)
		if i >= len(params) {
			kind = 1
		}
		shape := t.Value.Shape()
		b.WriteByte(kind)
		b.WriteByte(byte(len(shape)))
		for _, d := range shape {
			w32(uint32(d))
		}
		buf := make([]byte, 4*len(vals))
		for j, v := range vals {
			le.PutUint32(buf[4*j:], math.Float32bits(v))
		}
		b.Write(buf)
	}
	var ob bytes.Buffer
	if opt != nil {
		if err := opt.SaveState(&ob); err != nil {
			return fmt.Errorf("checkpoint %s: optimizer state: %w", path, err)
		}
	}
	b.Write(le.AppendUint64(nil, uint64(ob.Len())))
	b.Write(ob.Bytes())
	w32(crc32.ChecksumIEEE(b.Bytes()))
	return writeAtomic(path, b.Bytes())
}

// writeAtomic writes a checkpoint with atomicfile.Write.
func writeAtomic(path string, data []byte) error {
	if err := atomicfile.Write(path, data); err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return nil
}

// ErrCheckpoint is wrapped by every error about a malformed checkpoint file.
var ErrCheckpoint = errors.New("bad checkpoint")

// LoadCheckpoint restores m's tensors from path (checking model, names and
// shapes), decodes the trainer state into trainer (when not nil) and hands
// the optimizer state to opt (when not nil).
func LoadCheckpoint(path string, m Classifier, trainer any, opt StateLoader) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return DecodeCheckpoint(raw, path, m, trainer, opt)
}

// DecodeCheckpoint is LoadCheckpoint of the bytes of a checkpoint file;
// path names it in errors.
func DecodeCheckpoint(raw []byte, path string, m Classifier, trainer any, opt StateLoader) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w %s: %s", ErrCheckpoint, path, fmt.Sprintf(format, a...))
	}
	if len(raw) < len(ckptMagic)+8 || string(raw[:len(ckptMagic)]) != ckptMagic {
		return bad("not a plastic checkpoint (magic %q missing)", ckptMagic)
	}
	body, sum := raw[:len(raw)-4], binary.LittleEndian.Uint32(raw[len(raw)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return bad("CRC mismatch (truncated or corrupted file)")
	}
	r := &reader{b: body[len(ckptMagic):]}
	if v := r.u32(); v != ckptVersion {
		return bad("version %d, this build reads version %d", v, ckptVersion)
	}
	var meta ckptMeta
	if err := json.Unmarshal(r.bytes(int(r.u32())), &meta); err != nil || r.err != nil {
		return bad("meta block: %v", errors.Join(err, r.err))
	}
	if meta.Model != m.Name() || meta.Classes != m.Classes() || !equalInts(meta.InputShape, m.InputShape()) {
		return bad("holds %s %v -> %d classes, not %s %v -> %d", meta.Model, meta.InputShape, meta.Classes, m.Name(), m.InputShape(), m.Classes())
	}
	params, bufs := m.Params(), m.Buffers()
	all := append(params, bufs...)
	if n := int(r.u32()); n != len(all) {
		return bad("%d tensors, the model has %d", n, len(all))
	}
	for i, t := range all {
		name := string(r.bytes(int(r.u16())))
		kind := r.u8()
		nd := int(r.u8())
		shape := make([]int, nd)
		for j := range shape {
			shape[j] = int(r.u32())
		}
		if r.err != nil {
			return bad("tensor %d: %v", i, r.err)
		}
		wantKind := byte(0)
		if i >= len(params) {
			wantKind = 1
		}
		if name != t.Name || kind != wantKind || !tensor.Shape(shape).Eq(t.Value.Shape()) {
			return bad("tensor %d is %s %v (kind %d), the model wants %s %v (kind %d)", i, name, shape, kind, t.Name, t.Value.Shape(), wantKind)
		}
		vals, ok := t.Value.Data().([]float32)
		if !ok {
			return bad("model tensor %s is not float32", t.Name)
		}
		data := r.bytes(4 * len(vals))
		if r.err != nil {
			return bad("tensor %s: %v", name, r.err)
		}
		for j := range vals {
			vals[j] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*j:]))
		}
	}
	ob := r.bytes(int(r.u64()))
	if r.err != nil {
		return bad("optimizer block: %v", r.err)
	}
	if len(r.b) != 0 {
		return bad("%d trailing bytes", len(r.b))
	}
	if trainer != nil && len(meta.Trainer) > 0 {
		if err := json.Unmarshal(meta.Trainer, trainer); err != nil {
			return bad("trainer state: %v", err)
		}
	}
	if opt != nil {
		if len(ob) == 0 {
			return bad("no optimizer state")
		}
		if err := opt.LoadState(bytes.NewReader(ob)); err != nil {
			return fmt.Errorf("checkpoint %s: optimizer state: %w", path, err)
		}
	}
	return nil
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// reader decodes little-endian fields, remembering the first short read.
type reader struct {
	b   []byte
	err error
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.err = io.ErrUnexpectedEOF
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}
func (r *reader) u8() byte {
	if b := r.bytes(1); b != nil {
		return b[0]
	}
	return 0
}
func (r *reader) u16() uint16 {
	if b := r.bytes(2); b != nil {
		return binary.LittleEndian.Uint16(b)
	}
	return 0
}
func (r *reader) u32() uint32 {
	if b := r.bytes(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}
func (r *reader) u64() uint64 {
	if b := r.bytes(8); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}
