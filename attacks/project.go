package attacks

import "math"

// ProjectL2Box replaces z by its Euclidean projection onto the intersection
// of the L2 ball of radius eps around x0 and the box [0,1]^n (x0 must lie in
// the box). By the KKT conditions the projection is
// clip(x0 + t (z - x0), 0, 1) for the largest t in [0, 1] whose distance to
// x0 is at most eps; the distance is non-decreasing in t, so t is found by
// bisection (to float64 resolution).
func ProjectL2Box(z, x0 []float64, eps float64) {
	if dist2(clipped(z, x0, 1), x0, z) <= eps*eps {
		clipInto(z, x0, 1)
		return
	}
	lo, hi := 0.0, 1.0
	for it := 0; it < 64 && hi-lo > 1e-15; it++ {
		mid := (lo + hi) / 2
		if dist2(clipped(z, x0, mid), x0, z) <= eps*eps {
			lo = mid
		} else {
			hi = mid
		}
	}
	clipInto(z, x0, lo)
}

// clipped is a view: entry i of clip(x0 + t (z - x0), 0, 1).
type clipView struct {
	z, x0 []float64
	t     float64
}

func clipped(z, x0 []float64, t float64) clipView { return clipView{z, x0, t} }

func (c clipView) at(i int) float64 { return min(max(c.x0[i]+c.t*(c.z[i]-c.x0[i]), 0), 1) }

// dist2 is the squared distance of the view to x0.
func dist2(c clipView, x0, _ []float64) float64 {
	s := 0.0
	for i := range x0 {
		d := c.at(i) - x0[i]
		s += d * d
	}
	return s
}

func clipInto(z, x0 []float64, t float64) {
	c := clipped(z, x0, t)
	for i := range z {
		z[i] = c.at(i)
	}
}

// ProjectLInfBox replaces z by its projection onto the L-infinity ball of
// radius eps around x0 intersected with [0,1]^n (coordinate-wise clipping,
// which is exact for this box-shaped set).
func ProjectLInfBox(z, x0 []float64, eps float64) {
	for i := range z {
		z[i] = min(max(z[i], x0[i]-eps, 0), x0[i]+eps, 1)
	}
}

// Dist returns the norm of a - b.
func Dist(norm Norm, a, b []float64) float64 {
	if norm == LInf {
		m := 0.0
		for i := range a {
			m = max(m, math.Abs(a[i]-b[i]))
		}
		return m
	}
	s := 0.0
	for i := range a {
		d := a[i] - b[i]
		s += d * d
	}
	return math.Sqrt(s)
}
