package models

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestBuildLogitsShapeErrors: a parameter node of the wrong shape is an
// error from BuildLogits (and BuildLogitsT), for every parameter, not a
// nil-pointer panic from the ops built after the failing one.
func TestBuildLogitsShapeErrors(t *testing.T) {
	r, err := NewRNN(RNNConfig{Inputs: 5, Labels: 3, Nodes: 12, P: 0.5, Cap: 4, T: 3}, 1)
	if err != nil {
		t.Fatal(err)
	}
	dt := tensor.Float64
	noPanic := func(what string, f func() (*G.Node, error)) {
		t.Helper()
		var (
			out *G.Node
			err error
		)
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("%s: panic %v", what, p)
				}
			}()
			out, err = f()
		}()
		if err == nil || out != nil {
			t.Errorf("%s: got %v, %v; want an error", what, out, err)
		}
	}
	for _, bad := range []string{"A", "W", "U", "B", "C"} {
		g := G.NewGraph()
		x := G.NewMatrix(g, dt, G.WithShape(2, 5), G.WithName("x"), G.WithInit(G.Zeroes()))
		p := r.NewGraphParams(g, dt)
		wrong := G.NewMatrix(g, dt, G.WithShape(7, 2), G.WithName("wrong"), G.WithInit(G.Zeroes()))
		if bad == "B" || bad == "C" {
			wrong = G.NewVector(g, dt, G.WithShape(7), G.WithName("wrong"), G.WithInit(G.Zeroes()))
		}
		switch bad {
		case "A":
			p.A = wrong
		case "W":
			p.W = wrong
		case "U":
			p.U = wrong
		case "B":
			p.B = wrong
		case "C":
			p.C = wrong
		}
		noPanic("BuildLogits with a wrong "+bad, func() (*G.Node, error) { return r.BuildLogits(x, p) })
	}
	for _, bad := range []string{"AT", "WT", "UT", "B", "C", "no WT"} {
		g := G.NewGraph()
		x := G.NewMatrix(g, dt, G.WithShape(2, 5), G.WithName("x"), G.WithInit(G.Zeroes()))
		mat := func(name string, rows, cols int) *G.Node {
			return G.NewMatrix(g, dt, G.WithShape(rows, cols), G.WithName(name), G.WithInit(G.Zeroes()))
		}
		vec := func(name string, n int) *G.Node {
			return G.NewVector(g, dt, G.WithShape(n), G.WithName(name), G.WithInit(G.Zeroes()))
		}
		tp := TransposedParams{AT: mat("AT", 5, 12), WT: mat("WT", 12, 12), UT: mat("UT", 12, 3), B: vec("b", 12), C: vec("c", 3)}
		switch bad {
		case "AT":
			tp.AT = mat("bad", 5, 11)
		case "WT":
			tp.WT = mat("bad", 11, 12)
		case "UT":
			tp.UT = mat("bad", 11, 3)
		case "B":
			tp.B = vec("bad", 11)
		case "C":
			tp.C = vec("bad", 2)
		case "no WT":
			tp.WT = nil
		}
		noPanic("BuildLogitsT with a wrong "+bad, func() (*G.Node, error) { return r.BuildLogitsT(x, tp) })
	}
}
