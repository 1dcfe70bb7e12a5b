package cuda

// Batched rule-based training: B independent simple RNNs of the plasticity
// paper (docs/plasticity-rules.md) trained at once, one example per
// network per step, all state resident on the device.
//
// Layout (row-major, network b's block at offset b*stride):
//
//	Am   B x V x n   (A .* input mask; one shared V x n when SharedInput)
//	W    B x V x V   (trained by the RNN rule; Mg its graph mask, same shape)
//	U    B x M x V   (trained by the output rule; output mask all ones)
//	bias B x V, c B x M
//	h, inp, z   B x V    codes B x V (int32)    logits B x M
//	rule B x S x S, ro B x S x 2 (one shared when SharedRules)
//
// One step (DevicePlastic.Train uploads the indices and labels of all its
// steps once, then queues every step with no host round trip):
//
//	X = gather(data, idx)                                   pl_gather_rows
//	inp = Am x   (shared: one GEMM X Am^T; else strided batched)  cuBLAS
//	h = cap_k(relu(inp + bias)); codes = fire(0, h)        pl_add, pl_relu_fwd, pl_cap_topk, pl_fire_codes
//	rounds 2..T: z = (W .* Mg)(h + inp) + bias; h = cap_k(relu(z)); fire
//	                                                       pl_mul, pl_add, cuBLAS strided batched, ...
//	logits = U h + c; preds, flags = argmax, preds != labels  cuBLAS, pl_add, pl_predict
//	W += eta r[code_j][code_i]; U rows += eta ro[code_j][b]   pl_rule_update, pl_output_rule
//	(only networks with flags[b] != 0 unless every example updates)
//
// Why batch over networks: one network's step is a handful of V x V
// matrix-vector products (V = 1000: 4 MB of W read per round), far too
// little to fill a GPU; B networks make every kernel B times wider, so
// the 10 re-trainings of Fig. 3 or a population of candidate rules run in
// the time of about one. The cap runs one block per network row.
type NetBatch struct {
	B, V, N, M   int // networks, nodes, inputs, labels
	T, K         int // rounds (firing code bits) and cap
	SharedInput  bool
	SharedRules  bool
	Update       RuleUpdate // B, V, M, S and strides are filled in by Check
	EveryExample bool       // update on every example, not only misclassified ones
}

// Check validates the sizes and completes Update.
func (nb *NetBatch) Check() error {
	switch {
	case nb.B < 1 || nb.V < 1 || nb.N < 1 || nb.M < 2:
		return errorf("plastic batch: B=%d V=%d n=%d m=%d: want B, V, n >= 1 and m >= 2", nb.B, nb.V, nb.N, nb.M)
	case nb.T < 1 || nb.T > 16:
		return errorf("plastic batch: T=%d: want 1..16 (codes have T bits, rules 4^T entries)", nb.T)
	case nb.K < 1 || nb.K > nb.V:
		return errorf("plastic batch: cap k=%d: want 1..V=%d", nb.K, nb.V)
	}
	for _, n := range []int64{int64(nb.B) * int64(nb.V) * int64(nb.V), int64(nb.B) * int64(nb.V) * int64(nb.N), int64(nb.B) * int64(nb.M) * int64(nb.V)} {
		if _, err := checkCount("plastic batch array size", n); err != nil {
			return err
		}
	}
	u := &nb.Update
	u.B, u.V, u.M, u.S = nb.B, nb.V, nb.M, 1<<nb.T
	u.OnlyFlagged = !nb.EveryExample
	u.RuleStride, u.OutStride = u.S*u.S, u.S*2
	if nb.SharedRules {
		u.RuleStride, u.OutStride = 0, 0
	}
	return nil
}

// The three forward products take the networks' vectors (one row per
// network: X, h) as the GEMM's A operand and the matrices (Am, W .* Mg,
// U) as its B operand, transposed: row b of the result is
// vec_b^T Mat_b^T = (Mat_b vec_b)^T.

// InputGemm maps inp = Am x for all networks.
func (nb NetBatch) InputGemm() (GemmCall, error) {
	if nb.SharedInput {
		// inp (B x V) = X (B x n) * Am^T (n x V): one GEMM.
		return RowMajorGemm(false, true, nb.B, nb.V, nb.N, nb.N, nb.N, nb.V)
	}
	return RowMajorGemmBatched(false, true, 1, nb.V, nb.N, nb.N, nb.N, nb.V,
		int64(nb.N), int64(nb.V)*int64(nb.N), int64(nb.V), nb.B)
}

// RecurrentGemm maps z_b = Wm_b v_b.
func (nb NetBatch) RecurrentGemm() (GemmCall, error) {
	return RowMajorGemmBatched(false, true, 1, nb.V, nb.V, nb.V, nb.V, nb.V,
		int64(nb.V), int64(nb.V)*int64(nb.V), int64(nb.V), nb.B)
}

// OutputGemm maps logits_b = U_b h_b.
func (nb NetBatch) OutputGemm() (GemmCall, error) {
	return RowMajorGemmBatched(false, true, 1, nb.M, nb.V, nb.V, nb.V, nb.M,
		int64(nb.V), int64(nb.M)*int64(nb.V), int64(nb.M), nb.B)
}

// PlasticNets is the state of a batch of networks on the host (the CPU
// reference) or mirrored on the device.
type PlasticNets struct {
	Am, W, Mg, U, Bias, C []float32
	Rule, Out             []float32
}

// PlasticStepResult is what one step reports per network.
type PlasticStepResult struct {
	Preds, Flags, Codes []int32
	H                   []float32 // final hidden state, B x V
}

// plasticStepRef runs one step for every network on the CPU, straight from
// the spec (no GEMM mapping): forward T rounds, predict, apply the rules.
func plasticStepRef(nb NetBatch, s *PlasticNets, x []float32, labels []int32) PlasticStepResult {
	B, V, N, M := nb.B, nb.V, nb.N, nb.M
	res := PlasticStepResult{Preds: make([]int32, B), Flags: make([]int32, B), Codes: make([]int32, B*V), H: make([]float32, B*V)}
	logits := make([]float32, B*M)
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
		h := capRef(1, V, nb.K, reluRef(z))
		codes := fireCodesRef(h, make([]int32, V))
		for t := 1; t < nb.T; t++ {
			w, mg := s.W[b*V*V:(b+1)*V*V], s.Mg[b*V*V:(b+1)*V*V]
			for i := 0; i < V; i++ {
				var acc float64
				for j := 0; j < V; j++ {
					acc += float64(w[i*V+j]*mg[i*V+j]) * float64(h[j]+inp[j])
				}
				z[i] = float32(acc) + bias[i]
			}
			h = capRef(1, V, nb.K, reluRef(z))
			codes = fireCodesRef(h, codes)
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
	s.W = ruleUpdateRef(nb.Update, s.W, res.Codes, s.Rule, res.Flags)
	s.U = outputRuleRef(nb.Update, s.U, res.Codes, labels, res.Preds, s.Out, res.Flags)
	return res
}
