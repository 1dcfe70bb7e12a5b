package graph

import (
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestOpBase(t *testing.T) {
	a, b := NewOp("dense", 3), NewOp("dense", 3)
	if a.Hashcode() == b.Hashcode() || a.String() != "dense" || a.Arity() != 3 {
		t.Errorf("NewOp: hashes %d %d (want distinct), name %q, arity %d", a.Hashcode(), b.Hashcode(), a, a.Arity())
	}
	p, q, r := PureOp("Cap{3}", 1), PureOp("Cap{3}", 1), PureOp("Cap{4}", 1)
	if p.Hashcode() != q.Hashcode() || p.Hashcode() == r.Hashcode() {
		t.Errorf("PureOp: equal names hash %d %d, different names %d", p.Hashcode(), q.Hashcode(), r.Hashcode())
	}
	if got := PureOp("x", 2).Type().String(); got != "a → a → a" {
		t.Errorf("element-wise type of arity 2: %s", got)
	}
	in := tensor.Shape{4, 5}
	s, err := p.InferShape(in, tensor.Shape{1})
	if err != nil || !s.Eq(in) {
		t.Fatalf("InferShape: %v, %v", s, err)
	}
	s[0] = 9
	if in[0] != 4 {
		t.Error("InferShape returned the input's shape itself, not a copy")
	}
	if _, err := p.InferShape(); err == nil || !strings.Contains(err.Error(), "Cap{3}") {
		t.Errorf("InferShape without inputs: %v", err)
	}
	if p.ReturnsPtr() || p.CallsExtern() || p.OverwritesInput() != -1 {
		t.Error("OpBase: wrong pointer/extern/overwrite defaults")
	}
}

// TestLayerOf: each forward layer op describes itself; other ops do not.
func TestLayerOf(t *testing.T) {
	g := G.NewGraph()
	f32 := func(name string, shape ...int) *G.Node {
		return G.NodeFromAny(g, tensor.New(tensor.WithShape(shape...), tensor.Of(tensor.Float32)), G.WithName(name))
	}
	x := f32("x", 2, 3, 8, 8)
	conv, err := Conv2D(x, f32("w", 4, 3, 3, 3), f32("b", 4), 2, 1, true, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	rm := tensor.New(tensor.WithShape(4), tensor.Of(tensor.Float32))
	rv := tensor.New(tensor.WithShape(4), tensor.Of(tensor.Float32))
	bn, err := BatchNorm(conv, f32("g", 4), f32("be", 4), rm, rv, true, true)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := MaxPool2D(bn, 2)
	if err != nil {
		t.Fatal(err)
	}
	flat, err := Flatten(pool)
	if err != nil {
		t.Fatal(err)
	}
	var stream DropStream
	dense, err := Dense(flat, f32("wd", 16, 5), f32("bd", 5), true, &Dropout{P: 0.25, Stream: &stream}, true)
	if err != nil {
		t.Fatal(err)
	}
	check := func(n *G.Node, want Layer) {
		t.Helper()
		got, ok := LayerOf(n.Op())
		if !ok || got != want {
			t.Errorf("LayerOf(%v) = %+v, %v; want %+v", n.Op(), got, ok, want)
		}
	}
	check(conv, Layer{Kind: "conv", ReLU: true, Bias: true, Conv: ConvShape{C: 3, H: 8, W: 8, Co: 4, K: 3, S: 2, P: 1, Ho: 4, Wo: 4}})
	check(bn, Layer{Kind: "bn", ReLU: true, RunMean: rm, RunVar: rv})
	check(pool, Layer{Kind: "maxpool", PoolK: 2})
	check(flat, Layer{Kind: "flatten"})
	check(dense, Layer{Kind: "dense", ReLU: true, Dropout: 0.25, NeedDX: true})
	if cs := (ConvShape{C: 3, K: 3, Ho: 4, Wo: 5}); cs.PatchRows() != 27 || cs.PatchCols() != 20 {
		t.Errorf("patch matrix %dx%d, want 27x20", cs.PatchRows(), cs.PatchCols())
	}
	c, err := Cap(f32("v", 2, 6), 3)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := LayerOf(c.Op()); ok {
		t.Error("LayerOf describes the cap op")
	}
}
