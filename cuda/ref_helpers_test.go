package cuda

import "math"

// CPU references of every kernel, written for clarity and generic over the
// float type: float32 instances are what the GPU check compares against,
// float64 instances are what the finite-difference tests differentiate.
// Layouts and semantics are those documented on the kernels.

type float interface{ ~float32 | ~float64 }

func reluRef[T float](x []T) []T {
	y := make([]T, len(x))
	for i, v := range x {
		if v > 0 {
			y[i] = v
		}
	}
	return y
}

func reluBwdRef[T float](x, dy []T) []T {
	dx := make([]T, len(x))
	for i := range x {
		if x[i] > 0 {
			dx[i] = dy[i]
		}
	}
	return dx
}

func biasAddRef[T float](rows, cols int, x, b []T) []T {
	y := make([]T, rows*cols)
	for i := range y {
		y[i] = x[i] + b[i%cols]
	}
	return y
}

// uniformRef is pl_uniform: splitmix64 at position ctr of stream seed, top
// 24 bits scaled to [0,1).
func uniformRef(seed, ctr uint64) float32 {
	z := seed + (ctr+1)*0x9E3779B97F4A7C15
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	z ^= z >> 31
	return float32(z>>40) * (1.0 / 16777216.0)
}

func dropoutRef(p float32, seed, offset uint64, x []float32) (y, mask []float32) {
	keep := 1 / (1 - p)
	y, mask = make([]float32, len(x)), make([]float32, len(x))
	for i := range x {
		if uniformRef(seed, offset+uint64(i)) >= p {
			mask[i] = keep
		}
		y[i] = x[i] * mask[i]
	}
	return y, mask
}

// softmaxXentRef returns the row softmax of x (rows x cols) and the
// per-row cross-entropy -log p[label].
func softmaxXentRef[T float](rows, cols int, x []T, labels []int32) (probs, loss []T) {
	probs, loss = make([]T, rows*cols), make([]T, rows)
	for r := 0; r < rows; r++ {
		xr := x[r*cols : (r+1)*cols]
		m := xr[0]
		for _, v := range xr {
			m = max(m, v)
		}
		var s float64
		for _, v := range xr {
			s += math.Exp(float64(v - m))
		}
		for c, v := range xr {
			probs[r*cols+c] = T(math.Exp(float64(v-m)) / s)
		}
		loss[r] = T(math.Log(s) - float64(xr[labels[r]]-m))
	}
	return probs, loss
}

func softmaxXentBwdRef[T float](rows, cols int, scale T, probs []T, labels []int32) []T {
	dx := make([]T, rows*cols)
	for i := range dx {
		d := probs[i]
		if int32(i%cols) == labels[i/cols] {
			d--
		}
		dx[i] = d * scale
	}
	return dx
}

func colsumRef[T float](rows, cols int, x []T) []T {
	out := make([]T, cols)
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			out[c] += x[r*cols+c]
		}
	}
	return out
}

func im2colRef[T float](g ConvGeom, x []T) []T {
	oh, ow := g.Out()
	col := make([]T, g.N*g.C*g.KH*g.KW*oh*ow)
	i := 0
	for n := 0; n < g.N; n++ {
		for c := 0; c < g.C; c++ {
			for ki := 0; ki < g.KH; ki++ {
				for kj := 0; kj < g.KW; kj++ {
					for y := 0; y < oh; y++ {
						for z := 0; z < ow; z++ {
							h, w := y*g.SH-g.PH+ki, z*g.SW-g.PW+kj
							if h >= 0 && h < g.H && w >= 0 && w < g.W {
								col[i] = x[((n*g.C+c)*g.H+h)*g.W+w]
							}
							i++
						}
					}
				}
			}
		}
	}
	return col
}

// imagesSideBySide turns im2colRef's layout (image n's R x P patch matrix
// at n*R*P) into the device convolutions' (row r of image n at r*N*P +
// n*P), or back when back.
func imagesSideBySide[T float](g ConvGeom, col []T, back bool) []T {
	oh, ow := g.Out()
	R, P := g.C*g.KH*g.KW, oh*ow
	out := make([]T, len(col))
	for n := 0; n < g.N; n++ {
		for r := 0; r < R; r++ {
			perImage, sideBySide := (n*R+r)*P, r*g.N*P+n*P
			if back {
				copy(out[perImage:perImage+P], col[sideBySide:sideBySide+P])
			} else {
				copy(out[sideBySide:sideBySide+P], col[perImage:perImage+P])
			}
		}
	}
	return out
}

// col2imRef is the adjoint of im2colRef (scatter-add of every patch).
func col2imRef[T float](g ConvGeom, col []T) []T {
	oh, ow := g.Out()
	x := make([]T, g.N*g.C*g.H*g.W)
	i := 0
	for n := 0; n < g.N; n++ {
		for c := 0; c < g.C; c++ {
			for ki := 0; ki < g.KH; ki++ {
				for kj := 0; kj < g.KW; kj++ {
					for y := 0; y < oh; y++ {
						for z := 0; z < ow; z++ {
							h, w := y*g.SH-g.PH+ki, z*g.SW-g.PW+kj
							if h >= 0 && h < g.H && w >= 0 && w < g.W {
								x[((n*g.C+c)*g.H+h)*g.W+w] += col[i]
							}
							i++
						}
					}
				}
			}
		}
	}
	return x
}

// bnTrainRef is training-mode batch norm over N x C x HW with the running
// statistics update (unbiased variance, momentum mom).
func bnTrainRef[T float](n, c, hw int, eps, mom T, x, gamma, beta, runMean, runVar []T) (y, newMean, newVar, saveMean, saveInv []T) {
	m := n * hw
	y = make([]T, len(x))
	newMean, newVar = append([]T(nil), runMean...), append([]T(nil), runVar...)
	saveMean, saveInv = make([]T, c), make([]T, c)
	idx := func(j, ch int) int { return ((j/hw)*c+ch)*hw + j%hw }
	for ch := 0; ch < c; ch++ {
		var s float64
		for j := 0; j < m; j++ {
			s += float64(x[idx(j, ch)])
		}
		mean := s / float64(m)
		var q float64
		for j := 0; j < m; j++ {
			d := float64(x[idx(j, ch)]) - mean
			q += d * d
		}
		v := q / float64(m)
		inv := 1 / math.Sqrt(v+float64(eps))
		for j := 0; j < m; j++ {
			k := idx(j, ch)
			y[k] = T(float64(gamma[ch])*(float64(x[k])-mean)*inv) + beta[ch]
		}
		unb := v
		if m > 1 {
			unb = v * float64(m) / float64(m-1)
		}
		newMean[ch] = (1-mom)*runMean[ch] + mom*T(mean)
		newVar[ch] = (1-mom)*runVar[ch] + mom*T(unb)
		saveMean[ch], saveInv[ch] = T(mean), T(inv)
	}
	return
}

func bnInferRef[T float](n, c, hw int, eps T, x, gamma, beta, runMean, runVar []T) []T {
	y := make([]T, len(x))
	for i := range x {
		ch := (i / hw) % c
		y[i] = gamma[ch]*(x[i]-runMean[ch])*T(1/math.Sqrt(float64(runVar[ch]+eps))) + beta[ch]
	}
	return y
}

func bnBwdRef[T float](n, c, hw int, x, dy, gamma, saveMean, saveInv []T) (dx, dgamma, dbeta []T) {
	m := n * hw
	dx, dgamma, dbeta = make([]T, len(x)), make([]T, c), make([]T, c)
	idx := func(j, ch int) int { return ((j/hw)*c+ch)*hw + j%hw }
	for ch := 0; ch < c; ch++ {
		var sdy, sdyx float64
		for j := 0; j < m; j++ {
			k := idx(j, ch)
			sdy += float64(dy[k])
			sdyx += float64(dy[k]) * float64(x[k]-saveMean[ch]) * float64(saveInv[ch])
		}
		fm := float64(m)
		for j := 0; j < m; j++ {
			k := idx(j, ch)
			xh := float64(x[k]-saveMean[ch]) * float64(saveInv[ch])
			dx[k] = T(float64(gamma[ch]) * float64(saveInv[ch]) * (float64(dy[k]) - sdy/fm - xh*sdyx/fm))
		}
		dgamma[ch], dbeta[ch] = T(sdyx), T(sdy)
	}
	return
}

func maxpoolRef[T float](g ConvGeom, x []T) (y []T, argmax []int32) {
	oh, ow := g.Out()
	y, argmax = make([]T, g.N*g.C*oh*ow), make([]int32, g.N*g.C*oh*ow)
	for p := 0; p < g.N*g.C; p++ {
		for a := 0; a < oh; a++ {
			for b := 0; b < ow; b++ {
				o := (p*oh+a)*ow + b
				arg := -1
				var best T
				for ki := 0; ki < g.KH; ki++ {
					for kj := 0; kj < g.KW; kj++ {
						h, w := a*g.SH-g.PH+ki, b*g.SW-g.PW+kj
						if h < 0 || h >= g.H || w < 0 || w >= g.W {
							continue
						}
						if v := x[p*g.H*g.W+h*g.W+w]; arg < 0 || v > best {
							best, arg = v, h*g.W+w
						}
					}
				}
				y[o], argmax[o] = best, int32(arg)
			}
		}
	}
	return y, argmax
}

func maxpoolBwdRef[T float](g ConvGeom, dy []T, argmax []int32) []T {
	oh, ow := g.Out()
	dx := make([]T, g.N*g.C*g.H*g.W)
	for p := 0; p < g.N*g.C; p++ {
		for o := 0; o < oh*ow; o++ {
			dx[p*g.H*g.W+int(argmax[p*oh*ow+o])] += dy[p*oh*ow+o]
		}
	}
	return dx
}

func avgpoolRef[T float](g ConvGeom, x []T) []T {
	oh, ow := g.Out()
	y := make([]T, g.N*g.C*oh*ow)
	inv := 1 / T(g.KH*g.KW)
	for p := 0; p < g.N*g.C; p++ {
		for a := 0; a < oh; a++ {
			for b := 0; b < ow; b++ {
				var s T
				for ki := 0; ki < g.KH; ki++ {
					for kj := 0; kj < g.KW; kj++ {
						h, w := a*g.SH-g.PH+ki, b*g.SW-g.PW+kj
						if h >= 0 && h < g.H && w >= 0 && w < g.W {
							s += x[p*g.H*g.W+h*g.W+w]
						}
					}
				}
				y[(p*oh+a)*ow+b] = s * inv
			}
		}
	}
	return y
}

func avgpoolBwdRef[T float](g ConvGeom, dy []T) []T {
	oh, ow := g.Out()
	dx := make([]T, g.N*g.C*g.H*g.W)
	inv := 1 / T(g.KH*g.KW)
	for p := 0; p < g.N*g.C; p++ {
		for a := 0; a < oh; a++ {
			for b := 0; b < ow; b++ {
				for ki := 0; ki < g.KH; ki++ {
					for kj := 0; kj < g.KW; kj++ {
						h, w := a*g.SH-g.PH+ki, b*g.SW-g.PW+kj
						if h >= 0 && h < g.H && w >= 0 && w < g.W {
							dx[p*g.H*g.W+h*g.W+w] += dy[(p*oh+a)*ow+b] * inv
						}
					}
				}
			}
		}
	}
	return dx
}

// capRef keeps the k largest entries of each row (ties at the k-th value
// broken by lower index) and zeroes the rest.
func capRef[T float](rows, cols, k int, x []T) []T {
	y := make([]T, len(x))
	for r := 0; r < rows; r++ {
		xr, yr := x[r*cols:(r+1)*cols], y[r*cols:(r+1)*cols]
		if k >= cols {
			copy(yr, xr)
			continue
		}
		if k <= 0 {
			continue
		}
		// Rank each entry: it is kept when fewer than k entries beat it,
		// an entry beating another when larger, or equal and earlier.
		for c := range xr {
			beat := 0
			for d := range xr {
				if xr[d] > xr[c] || xr[d] == xr[c] && d < c {
					beat++
				}
			}
			if beat < k {
				yr[c] = xr[c]
			}
		}
	}
	return y
}

func fireCodesRef(h []float32, codes []int32) []int32 {
	out := make([]int32, len(codes))
	for i := range codes {
		out[i] = codes[i] << 1
		if h[i] != 0 {
			out[i] |= 1
		}
	}
	return out
}

// capKeptRef marks the entries capRef keeps (top-k firing).
func capKeptRef[T float](rows, cols, k int, x []T) []bool {
	kept := make([]bool, len(x))
	for r := 0; r < rows; r++ {
		xr := x[r*cols : (r+1)*cols]
		for c := range xr {
			beat := 0
			for d := range xr {
				if xr[d] > xr[c] || xr[d] == xr[c] && d < c {
					beat++
				}
			}
			kept[r*cols+c] = beat < k
		}
	}
	return kept
}

// predictRef is the first argmax of each row and whether it misses the label.
func predictRef(rows, cols int, logits []float32, labels []int32) (preds, flags []int32) {
	preds, flags = make([]int32, rows), make([]int32, rows)
	for r := 0; r < rows; r++ {
		arg := 0
		for c := 1; c < cols; c++ {
			if logits[r*cols+c] > logits[r*cols+arg] {
				arg = c
			}
		}
		preds[r] = int32(arg)
		if int32(arg) != labels[r] {
			flags[r] = 1
		}
	}
	return preds, flags
}

func ruleUpdateRef(u RuleUpdate, w, mg []float32, codes []int32, rule []float32, flags []int32) []float32 {
	out := append([]float32(nil), w...)
	for b := 0; b < u.B; b++ {
		if u.OnlyFlagged && flags[b] == 0 {
			continue
		}
		for i := 0; i < u.V; i++ {
			for j := 0; j < u.V; j++ {
				t := (b*u.V+i)*u.V + j
				d := u.Eta * rule[b*u.RuleStride+int(codes[b*u.V+j])*u.S+int(codes[b*u.V+i])]
				if u.Multiplicative {
					out[t] *= 1 + d
				} else {
					out[t] += mg[t] * d
				}
			}
		}
	}
	return out
}

func outputRuleRef(u RuleUpdate, U []float32, codes, labels, preds []int32, ro []float32, flags []int32) []float32 {
	out := append([]float32(nil), U...)
	for b := 0; b < u.B; b++ {
		if u.OnlyFlagged && flags[b] == 0 {
			continue
		}
		for l := 0; l < u.M; l++ {
			var sel int
			switch {
			case int32(l) == labels[b]:
				sel = 0
			case u.AllRows || int32(l) == preds[b]:
				sel = 1
			default:
				continue
			}
			cols := []int{sel}
			if u.BothColumns && !u.AllRows && sel == 0 && int32(l) == preds[b] {
				// the authors' every-example update: a right prediction's
				// row is the predicted row (column 1), then the true row
				cols = []int{1, 0}
			}
			for j := 0; j < u.V; j++ {
				t := (b*u.M+l)*u.V + j
				for _, s := range cols {
					d := ro[b*u.OutStride+int(codes[b*u.V+j])*2+s]
					if u.Multiplicative {
						out[t] *= 1 + u.Eta*d
					} else {
						out[t] += u.Eta * d
					}
				}
			}
		}
	}
	return out
}

func inputRuleRef(u RuleUpdate, n int, a, min []float32, codes []int32, rule []float32, flags []int32) []float32 {
	out := append([]float32(nil), a...)
	for b := 0; b < u.B; b++ {
		if u.OnlyFlagged && flags[b] == 0 {
			continue
		}
		for i := 0; i < u.V; i++ {
			d := u.Eta * rule[b*u.InStride+int(codes[b*u.V+i])]
			for j := 0; j < n; j++ {
				t := (b*u.V+i)*n + j
				if u.Multiplicative {
					out[t] *= 1 + d
				} else {
					out[t] += min[t] * d
				}
			}
		}
	}
	return out
}

// plasticStepRef runs one step for every network on the CPU, straight from
// the layout of plastic.go (no GEMM mapping): forward T rounds, predict,
// apply the rules. (The device's semantics are checked against the CPU
// engine itself in plasticity's tests; this checks the kernels' wiring.)
func plasticStepRef(nb NetBatch, s *PlasticNets, x []float32, labels []int32) PlasticStepResult {
	B, V, N, M := nb.B, nb.V, nb.N, nb.M
	res := PlasticStepResult{Preds: make([]int32, B), Flags: make([]int32, B), Codes: make([]int32, B*V), H: make([]float32, B*V)}
	logits := make([]float32, B*M)
	fire := func(h []float32, kept []bool, codes []int32) []int32 {
		if !nb.TopKFiring {
			return fireCodesRef(h, codes)
		}
		out := make([]int32, len(codes))
		for i := range codes {
			out[i] = codes[i] << 1
			if kept[i] {
				out[i] |= 1
			}
		}
		return out
	}
	for b := 0; b < B; b++ {
		am := s.Am[:V*N]
		if !nb.SharedInput {
			am = s.Am[b*V*N : (b+1)*V*N]
		}
		xb := x[b*N : (b+1)*N]
		inp := make([]float32, V)
		for i := 0; i < V; i++ {
			var acc float64
			for j := 0; j < N; j++ {
				acc += float64(am[i*N+j]) * float64(xb[j])
			}
			inp[i] = float32(acc)
		}
		bias := s.Bias[b*V : (b+1)*V]
		z := make([]float32, V)
		for i := range z {
			z[i] = inp[i] + bias[i]
		}
		z = reluRef(z)
		h := capRef(1, V, nb.K, z)
		codes := fire(h, capKeptRef(1, V, nb.K, z), make([]int32, V))
		for t := 1; t < nb.T; t++ {
			w := s.W[b*V*V : (b+1)*V*V]
			for i := 0; i < V; i++ {
				var acc float64
				for j := 0; j < V; j++ {
					acc += float64(w[i*V+j]) * float64(h[j]+inp[j])
				}
				z[i] = float32(acc) + bias[i]
			}
			z = reluRef(z)
			h = capRef(1, V, nb.K, z)
			codes = fire(h, capKeptRef(1, V, nb.K, z), codes)
		}
		u := s.U[b*M*V : (b+1)*M*V]
		for l := 0; l < M; l++ {
			var acc float64
			for j := 0; j < V; j++ {
				acc += float64(u[l*V+j]) * float64(h[j])
			}
			logits[b*M+l] = float32(acc) + s.C[b*M+l]
		}
		copy(res.Codes[b*V:], codes)
		copy(res.H[b*V:], h)
	}
	res.Preds, res.Flags = predictRef(B, M, logits, labels)
	if nb.RNNRule {
		s.W = ruleUpdateRef(nb.Update, s.W, s.Mg, res.Codes, s.Rule, res.Flags)
	}
	if nb.OutputRule {
		s.U = outputRuleRef(nb.Update, s.U, res.Codes, labels, res.Preds, s.Out, res.Flags)
	}
	if nb.InputRule {
		s.Am = inputRuleRef(nb.Update, N, s.Am, s.Min, res.Codes, s.In, res.Flags)
	}
	return res
}
