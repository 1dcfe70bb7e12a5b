package graph

import (
	"fmt"
	"hash"
	"hash/fnv"
	"io"
	"sync/atomic"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// OpBase is the part of a custom Gorgonia op that is the same for every op
// of this toolkit: it is embedded by each op, which adds Do and, when
// differentiable, DiffWRT and SymDiff.
//
// It gives the op its arity, its name (String) and its hash, says that the
// op returns a fresh (or its own reused) value, calls nothing external and
// overwrites no input, and gives the types and shape of an element-wise op:
// n inputs and the output of one type, the output of the first input's
// shape. Ops of other types or shapes define their own Type and InferShape,
// which take precedence over the embedded ones.
type OpBase struct {
	name  string
	key   string
	arity int
}

var opSeq atomic.Uint64

// NewOp is the base of an op instance that Gorgonia never merges with
// another one (its hash holds a unique id): ops that keep state or buffers
// of their own, such as the layers of a model, each get one.
func NewOp(name string, arity int) OpBase {
	return OpBase{name: name, key: fmt.Sprintf("%s#%d", name, opSeq.Add(1)), arity: arity}
}

// PureOp is the base of an op whose result depends only on its inputs and
// on what its name says (e.g. "Cap{5}"): two nodes applying ops of the same
// name to the same inputs are the same value, which Gorgonia may merge.
func PureOp(name string, arity int) OpBase { return OpBase{name: name, key: name, arity: arity} }

// Arity is the number of inputs.
func (b OpBase) Arity() int { return b.arity }

// Type is a -> a -> ... -> a: the inputs and the output of one type.
func (b OpBase) Type() hm.Type {
	a := hm.TypeVariable('a')
	ts := make([]hm.Type, b.arity+1)
	for i := range ts {
		ts[i] = a
	}
	return hm.NewFnType(ts...)
}

// InferShape is the shape of the first input.
func (b OpBase) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if len(in) == 0 {
		return nil, fmt.Errorf("%s: no input shapes", b.name)
	}
	s, ok := in[0].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("%s: want a shape, got %T", b.name, in[0])
	}
	return s.Clone(), nil
}

// ReturnsPtr is false: Do returns a value, not a pointer into an input.
func (OpBase) ReturnsPtr() bool { return false }

// CallsExtern is false: the op runs on the CPU in Go.
func (OpBase) CallsExtern() bool { return false }

// OverwritesInput is -1: no input is overwritten.
func (OpBase) OverwritesInput() int { return -1 }

// WriteHash writes the op's key (its name, and its id for NewOp).
func (b OpBase) WriteHash(h hash.Hash) { _, _ = io.WriteString(h, b.key) }

// Hashcode is the FNV-1a hash of the key.
func (b OpBase) Hashcode() uint32 { return hashOf(b) }

// String is the op's name.
func (b OpBase) String() string { return b.name }

// TensorT is the Gorgonia type of a tensor of d dimensions over the type
// variable a (for the Type of ops that are not element-wise).
func TensorT(d int) hm.Type { return G.TensorType{Dims: d, Of: hm.TypeVariable('a')} }

func hashOf(op interface{ WriteHash(hash.Hash) }) uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
