package cuda

// Batched rule-based training: B independent simple RNNs of the plasticity
// paper (docs/plasticity-rules.md) trained at once, one example each per
// step, all state resident on the device (plasticity.DeviceTrainer drives
// it with the CPU engine's semantics).
//
// Layout (row-major, network b's block at offset b*stride):
//
//	Am   B x V x n   (A .* input mask; one shared V x n when SharedInput); Min its masks (input rule)
//	W    B x V x V   (W .* Mg: zero off the graph, trained by the RNN rule); Mg the graph masks
//	U    B x M x V   (trained by the output rule)
//	bias B x V, c B x M
//	h, inp, z, v  B x V    codes B x V (int32)    logits B x M
//	rule B x S x S, ro B x S x 2, in B x S (one shared when SharedRules)
//
// One step (DevicePlastic.Train uploads the indices and labels of all its
// steps once, then queues every step with no host round trip):
//
//	X = gather(data, idx)                                        pl_gather_rows
//	inp = Am x   (shared: one GEMM X Am^T; else strided batched)  cuBLAS
//	h = cap_k(relu(inp + bias)); codes = fire(0, h)             pl_add, pl_relu_fwd, pl_cap_topk
//	rounds 2..T: z = W (h + inp) + bias; h = cap_k(relu(z)); fire
//	                                                            pl_add, cuBLAS strided batched, ...
//	logits = U h + c; preds, flags = argmax, preds != labels    cuBLAS, pl_add, pl_predict
//	W += Mg eta r[code_j][code_i]; U rows += eta ro[code_j][b];  pl_rule_update, pl_output_rule,
//	A rows += Min eta in[code_i]  (or the multiplicative forms)  pl_input_rule
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
	TopKFiring   bool // a node fires when the cap picks it, even at zero (else: when non-zero after the cap)
	RNNRule      bool // the RNN rule trains W
	OutputRule   bool // the output rule trains U
	InputRule    bool // the input rule trains A (needs per-network inputs)
	Update       RuleUpdate
	EveryExample bool // update on every example, not only misclassified ones
}

// RuleUpdate describes one application of the plasticity rules to B
// networks at once (see the layout above).
type RuleUpdate struct {
	B, V, M, S     int     // networks, nodes, labels, 2^T
	Eta            float32 // learning rate of the rule (0.01 in the paper)
	Multiplicative bool    // w *= 1 + eta*delta instead of w += eta*delta
	OnlyFlagged    bool    // update only networks whose flag is set (misclassified)
	AllRows        bool    // output rule on every label row, not only true and predicted
	RuleStride     int     // elements between networks' RNN rules (0: shared)
	OutStride      int     // elements between networks' output rules (0: shared)
	InStride       int     // elements between networks' input rules (0: shared)
	// BothColumns: with the default rows, a right prediction's row (true
	// and predicted) gets the output rule's column 1, then column 0 (the
	// authors' code; plasticity.Scheme.BothColumns). No effect with AllRows.
	BothColumns bool
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
	case nb.InputRule && nb.SharedInput:
		return errorf("plastic batch: an input rule trains each network's own input weights: SharedInput must be off")
	}
	for _, n := range []int64{int64(nb.B) * int64(nb.V) * int64(nb.V), int64(nb.B) * int64(nb.V) * int64(nb.N), int64(nb.B) * int64(nb.M) * int64(nb.V)} {
		if _, err := checkCount("plastic batch array size", n); err != nil {
			return err
		}
	}
	u := &nb.Update
	u.B, u.V, u.M, u.S = nb.B, nb.V, nb.M, 1<<nb.T
	u.OnlyFlagged = !nb.EveryExample
	u.RuleStride, u.OutStride, u.InStride = u.S*u.S, u.S*2, u.S
	if nb.SharedRules {
		u.RuleStride, u.OutStride, u.InStride = 0, 0, 0
	}
	return nil
}

// ruleLens are the lengths of the rule, output-rule and input-rule arrays.
func (nb NetBatch) ruleLens() (rnn, out, in int) {
	s := nb.Update.S
	if nb.SharedRules {
		return s * s, s * 2, s
	}
	return nb.B * s * s, nb.B * s * 2, nb.B * s
}

// The three forward products take the networks' vectors (one row per
// network: X, h) as the GEMM's A operand and the matrices (Am, W, U) as
// its B operand, transposed: row b of the result is
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

// RecurrentGemm maps z_b = W_b v_b.
func (nb NetBatch) RecurrentGemm() (GemmCall, error) {
	return RowMajorGemmBatched(false, true, 1, nb.V, nb.V, nb.V, nb.V, nb.V,
		int64(nb.V), int64(nb.V)*int64(nb.V), int64(nb.V), nb.B)
}

// OutputGemm maps logits_b = U_b h_b.
func (nb NetBatch) OutputGemm() (GemmCall, error) {
	return RowMajorGemmBatched(false, true, 1, nb.M, nb.V, nb.V, nb.V, nb.M,
		int64(nb.V), int64(nb.M)*int64(nb.V), int64(nb.M), nb.B)
}

// PlasticNets is the state of a batch of networks on the host, mirrored on
// the device. W must be zero off the graph (W .* Mg); Min is needed with an
// input rule only; Rule, Out and In with the rules that are used.
type PlasticNets struct {
	Am, Min, W, Mg, U, Bias, C []float32
	Rule, Out, In              []float32
}

// PlasticStepResult is what one step reports per network.
type PlasticStepResult struct {
	Preds, Flags, Codes []int32
	H                   []float32 // final hidden state, B x V
}
