// Package binfmt is the one binary container of the toolkit's files:
// network files (baseline), checkpoints (models) and optimizer states
// (optimizer). All integers are little-endian:
//
//	magic    8 bytes   the kind of file, e.g. "PLASTRNN"
//	version  uint32    the version of that kind's layout
//	metaLen  uint32    length of the metadata block (1 .. 1 MiB)
//	meta     metaLen bytes of JSON
//	body     the kind's own fields (Encoder / Decoder)
//	crc      uint32    CRC-32 (IEEE) of every byte before it
//
// Marshal builds a file in memory; Open checks the magic, the version,
// the checksum and the metadata's bounds, and returns the metadata and a
// Decoder of the body. Errors say which check failed; callers prefix the
// file's name.
package binfmt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"slices"
)

// MagicLen is the length of a magic string.
const MagicLen = 8

// MaxMeta bounds the metadata block.
const MaxMeta = 1 << 20

const headerLen = MagicLen + 8 // magic, version, metaLen

// Marshal returns a file of the given kind: meta (JSON-encoded) and the
// fields body writes, followed by the checksum.
func Marshal(magic string, version uint32, meta any, body func(*Encoder) error) ([]byte, error) {
	if len(magic) != MagicLen {
		return nil, fmt.Errorf("binfmt: magic %q is not %d bytes", magic, MagicLen)
	}
	mj, err := json.Marshal(meta)
	if err != nil {
		return nil, fmt.Errorf("binfmt: metadata: %w", err)
	}
	if len(mj) > MaxMeta {
		return nil, fmt.Errorf("binfmt: metadata of %d bytes exceeds %d", len(mj), MaxMeta)
	}
	e := &Encoder{b: make([]byte, 0, headerLen+len(mj)+64)}
	e.Raw([]byte(magic))
	e.U32(version)
	e.U32(uint32(len(mj)))
	e.Raw(mj)
	if body != nil {
		if err := body(e); err != nil {
			return nil, err
		}
	}
	e.U32(crcOf(e.b))
	return e.b, nil
}

// Version returns the version of data when it starts with magic (to route
// files of an older layout to their own reader).
func Version(data []byte, magic string) (uint32, bool) {
	if len(data) < MagicLen+4 || string(data[:MagicLen]) != magic {
		return 0, false
	}
	return binary.LittleEndian.Uint32(data[MagicLen:]), true
}

// File is an opened file: its version, metadata and body.
type File struct {
	Version uint32
	Meta    []byte
	Body    *Decoder
}

// Open checks that data is a file of the kind magic names (what says it
// in words, e.g. "network file"), in one of the given versions, with a
// matching checksum, and splits it.
func Open(data []byte, magic, what string, versions ...uint32) (*File, error) {
	if len(data) < MagicLen || string(data[:MagicLen]) != magic {
		n := min(len(data), MagicLen)
		return nil, fmt.Errorf("not a %s (bad magic %q, want %q)", what, data[:n], magic)
	}
	if len(data) < headerLen+4 {
		return nil, fmt.Errorf("%s is truncated (%d bytes)", what, len(data))
	}
	v := binary.LittleEndian.Uint32(data[MagicLen:])
	known := false
	for _, k := range versions {
		known = known || v == k
	}
	if !known {
		return nil, fmt.Errorf("%s version %d, this build reads version %s", what, v, list(versions))
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if got := crcOf(body); got != sum {
		return nil, fmt.Errorf("%s CRC-32 checksum mismatch (stored %08x, computed %08x): the file is corrupt, truncated or has trailing bytes", what, sum, got)
	}
	ml := binary.LittleEndian.Uint32(data[MagicLen+4:])
	if ml == 0 || ml > MaxMeta || int(ml) > len(body)-headerLen {
		return nil, fmt.Errorf("%s metadata of %d bytes is out of range", what, ml)
	}
	return &File{Version: v, Meta: body[headerLen : headerLen+int(ml)], Body: &Decoder{b: body[headerLen+int(ml):]}}, nil
}

// DecodeMeta decodes the metadata into v, refusing unknown fields.
func (f *File) DecodeMeta(v any) error {
	dec := json.NewDecoder(bytes.NewReader(f.Meta))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("bad metadata: %w", err)
	}
	return nil
}

func crcOf(b []byte) uint32 { return crc32.ChecksumIEEE(b) }

func list(vs []uint32) string {
	s := ""
	for i, v := range vs {
		if i > 0 {
			s += " or "
		}
		s += fmt.Sprint(v)
	}
	return s
}

// Encoder appends little-endian fields.
type Encoder struct{ b []byte }

func (e *Encoder) U8(v uint8)   { e.b = append(e.b, v) }
func (e *Encoder) U16(v uint16) { e.b = binary.LittleEndian.AppendUint16(e.b, v) }
func (e *Encoder) U32(v uint32) { e.b = binary.LittleEndian.AppendUint32(e.b, v) }
func (e *Encoder) U64(v uint64) { e.b = binary.LittleEndian.AppendUint64(e.b, v) }
func (e *Encoder) Raw(b []byte) { e.b = append(e.b, b...) }

// grow extends the encoded bytes by n and returns the new n bytes (one
// allocation for a whole array, not one append per element: a network
// file's millions of weights encode at memory speed).
func (e *Encoder) grow(n int) []byte {
	e.b = slices.Grow(e.b, n)
	l := len(e.b)
	e.b = e.b[:l+n]
	return e.b[l:]
}

// Reserve makes room for n more bytes, so that a body whose size is known
// (millions of weights) is encoded into one allocation.
func (e *Encoder) Reserve(n int) { e.b = slices.Grow(e.b, n) }

// F32s appends IEEE-754 float32 values, bit for bit.
func (e *Encoder) F32s(x []float32) {
	d := e.grow(4 * len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(d[4*i:], math.Float32bits(v))
	}
}

// F64s appends IEEE-754 float64 values, bit for bit.
func (e *Encoder) F64s(x []float64) {
	d := e.grow(8 * len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint64(d[8*i:], math.Float64bits(v))
	}
}

// Bools appends one byte per value: 1 where it is not zero, else 0 (a mask).
func (e *Encoder) Bools(x []float64) {
	d := e.grow(len(x))
	for i, v := range x {
		d[i] = b2u(v != 0)
	}
}

func b2u(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// ErrTruncated is the Decoder's error when a field runs past the end.
var ErrTruncated = errors.New("truncated")

// Decoder reads little-endian fields from a body. After the first field
// that runs past the end every read returns zero values and Err reports
// ErrTruncated.
type Decoder struct {
	b   []byte
	err error
}

// NewDecoder reads fields from b (for layouts outside the container).
func NewDecoder(b []byte) *Decoder { return &Decoder{b: b} }

// Raw returns the next n bytes (nil after an error).
func (d *Decoder) Raw(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b) {
		d.err = fmt.Errorf("%w: want %d more bytes, %d left", ErrTruncated, n, len(d.b))
		return nil
	}
	out := d.b[:n:n]
	d.b = d.b[n:]
	return out
}

func (d *Decoder) U8() uint8 {
	if b := d.Raw(1); b != nil {
		return b[0]
	}
	return 0
}

func (d *Decoder) U16() uint16 {
	if b := d.Raw(2); b != nil {
		return binary.LittleEndian.Uint16(b)
	}
	return 0
}

func (d *Decoder) U32() uint32 {
	if b := d.Raw(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (d *Decoder) U64() uint64 {
	if b := d.Raw(8); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

// F32s fills dst with the next len(dst) float32 values.
func (d *Decoder) F32s(dst []float32) {
	b := d.Raw(4 * len(dst))
	if b == nil {
		return
	}
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
}

// F64s fills dst with the next len(dst) float64 values.
func (d *Decoder) F64s(dst []float64) {
	b := d.Raw(8 * len(dst))
	if b == nil {
		return
	}
	for i := range dst {
		dst[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
}

// Len is the number of bytes left.
func (d *Decoder) Len() int { return len(d.b) }

// Err is the first error (ErrTruncated) or nil.
func (d *Decoder) Err() error { return d.err }

// Finish returns Err, or an error when bytes are left over.
func (d *Decoder) Finish() error {
	if d.err != nil {
		return d.err
	}
	if len(d.b) != 0 {
		return fmt.Errorf("%d trailing bytes after the last field", len(d.b))
	}
	return nil
}

// ReadAll reads r to the end, refusing more than limit bytes.
func ReadAll(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return b, nil
}
