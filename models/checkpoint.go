package models

// Checkpoint file format, version 1, in the container of internal/binfmt
// (magic, version, JSON metadata, body, CRC-32; integers little-endian):
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
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"

	"gorgonia.org/tensor"

	"github.com/plasticity-lab/plastic/internal/atomicfile"
	"github.com/plasticity-lab/plastic/internal/binfmt"
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
	data, err := EncodeCheckpoint(path, m, trainer, opt)
	if err != nil {
		return err
	}
	return WriteCheckpoint(path, data)
}

// EncodeCheckpoint returns the bytes SaveCheckpoint writes (a snapshot: the
// model may change afterwards); path only names the file in errors.
// WriteCheckpoint then writes them, possibly on another goroutine.
func EncodeCheckpoint(path string, m Classifier, trainer any, opt StateSaver) ([]byte, error) {
	meta := ckptMeta{Model: m.Name(), InputShape: m.InputShape(), Classes: m.Classes()}
	if trainer != nil {
		raw, err := json.Marshal(trainer)
		if err != nil {
			return nil, fmt.Errorf("checkpoint %s: trainer state: %w", path, err)
		}
		meta.Trainer = raw
	}
	params, bufs := m.Params(), m.Buffers()
	all := append(append([]Tensor(nil), params...), bufs...)
	for _, t := range all {
		vals, ok := t.Value.Data().([]float32)
		if !ok {
			return nil, fmt.Errorf("checkpoint %s: tensor %s is %v, only float32 models are saved", path, t.Name, t.Value.Dtype())
		}
		for j, v := range vals {
			if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, fmt.Errorf("checkpoint %s: tensor %s has %v at element %d; refusing to save non-finite weights", path, t.Name, v, j)
			}
		}
	}
	var ob bytes.Buffer
	if opt != nil {
		if err := opt.SaveState(&ob); err != nil {
			return nil, fmt.Errorf("checkpoint %s: optimizer state: %w", path, err)
		}
	}
	b, err := binfmt.Marshal(ckptMagic, ckptVersion, meta, func(e *binfmt.Encoder) error {
		e.U32(uint32(len(all)))
		for i, t := range all {
			e.U16(uint16(len(t.Name)))
			e.Raw([]byte(t.Name))
			kind := uint8(0)
			if i >= len(params) {
				kind = 1
			}
			shape := t.Value.Shape()
			e.U8(kind)
			e.U8(uint8(len(shape)))
			for _, d := range shape {
				e.U32(uint32(d))
			}
			e.F32s(t.Value.Data().([]float32))
		}
		e.U64(uint64(ob.Len()))
		e.Raw(ob.Bytes())
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return b, nil
}

// WriteCheckpoint writes an encoded checkpoint to path atomically.
func WriteCheckpoint(path string, data []byte) error {
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
	f, err := binfmt.Open(raw, ckptMagic, "plastic checkpoint", ckptVersion)
	if err != nil {
		return bad("%v", err)
	}
	var meta ckptMeta
	if err := json.Unmarshal(f.Meta, &meta); err != nil {
		return bad("meta block: %v", err)
	}
	if meta.Model != m.Name() || meta.Classes != m.Classes() || !slices.Equal(meta.InputShape, m.InputShape()) {
		return bad("holds %s %v -> %d classes, not %s %v -> %d", meta.Model, meta.InputShape, meta.Classes, m.Name(), m.InputShape(), m.Classes())
	}
	r := f.Body
	params, bufs := m.Params(), m.Buffers()
	all := append(append([]Tensor(nil), params...), bufs...)
	if n := int(r.U32()); n != len(all) {
		return bad("%d tensors, the model has %d", n, len(all))
	}
	for i, t := range all {
		name := string(r.Raw(int(r.U16())))
		kind := r.U8()
		shape := make([]int, int(r.U8()))
		for j := range shape {
			shape[j] = int(r.U32())
		}
		if r.Err() != nil {
			return bad("tensor %d: %v", i, r.Err())
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
		if r.F32s(vals); r.Err() != nil {
			return bad("tensor %s: %v", name, r.Err())
		}
	}
	ob := r.Raw(int(r.U64()))
	if err := r.Finish(); err != nil {
		return bad("optimizer block: %v", err)
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
