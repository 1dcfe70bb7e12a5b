// Package evolution makes Appendix C of the plasticity paper runnable: the
// population genetics of a plasticity coefficient set by many genes, and
// its relation to gradient descent (GD).
//
// # Model
//
// A haploid organism has n genes, each with alleles + and -; x_i is the
// frequency of + at gene i. The genes are split among one or more
// coefficients (Model.Genes; e.g. one coefficient that scales a rule, or
// the four entries of a 2x2 output rule, each with its own genes).
// Coefficient c is the additive trait
//
//	Y_c = eps * sum_{i in c} (2 x_i - 1),
//
// the expectation of eps * (#plus - #minus) over the genes of c. Under weak
// selection theta, a carrier of + (-) at gene i has relative fitness
// 1 + theta (L(Y) - L(Y|+)) (resp. with Y|-), where L is the loss of the
// trait (for the paper: the test loss of a network trained with the rule)
// and Y|+, Y|- are the expected traits given the allele at gene i:
//
//	Y|+ = Y + 2 eps (1 - x_i),   Y|- = Y - 2 eps x_i   (other coefficients unchanged).
//
// The paper's text garbles these signs; these are the ones that make its
// normalizer Z = 1 + theta (x_i (L(Y) - L(Y|+)) + (1 - x_i)(L(Y) - L(Y|-)))
// the mean fitness, so that the frequencies of + and - add up to one. The
// exact deterministic recursion (Model.Step) is
//
//	x_i' = x_i (1 + theta (L(Y) - L(Y|+))) / Z.
//
// Model.WrightFisherStep is its finite-population version: N individuals
// are drawn in linkage equilibrium (every gene independently + with
// probability x_i, as the paper's "a population is sampled from this
// distribution"), individual g has fitness 1 + theta (L(Y) - L(Y_g)) with
// Y_g = eps (#plus - #minus) per coefficient (0, no offspring, where that
// is negative), and the N parents of the next
// generation are drawn with probabilities proportional to fitness; x_i' is
// the fraction of parents carrying +. Individuals are scored by the loss of their
// own trait, the recursion by the loss of the expected trait; for a
// quadratic loss the two differ by the trait's variance given the allele,
// which is the same for + and -, so the expected change matches the
// recursion to first order in theta; sampling adds drift of order
// sqrt(x_i (1 - x_i) / N) per generation.
//
// # Which first-order step? x_i(1 - x_i), not the paper's (2 - 2 x_i)
//
// Write D± = L(Y) - L(Y|±). Then
//
//	x_i' - x_i = x_i (1 + theta D+ - Z) / Z
//	           = theta x_i (D+ - x_i D+ - (1 - x_i) D-) / Z
//	           = theta x_i (1 - x_i) (D+ - D-) / Z
//	           = -theta x_i (1 - x_i) (L(Y|+) - L(Y|-)) / Z          (exact).
//
// Y|+ - Y|- = 2 eps exactly, so Taylor expansion about Y gives
//
//	L(Y|+) - L(Y|-) = 2 eps L'(Y) + 2 eps^2 (1 - 2 x_i) L''(Y) + O(eps^3),
//	Z = 1 + theta (L(Y) - x_i L(Y|+) - (1 - x_i) L(Y|-))
//	  = 1 - 2 theta eps^2 x_i (1 - x_i) L''(Y) + O(theta eps^3),
//
// (the first-order terms of Z cancel: x_i Y|+ + (1 - x_i) Y|- = Y). With the
// chain rule dL/dx_i = L'(Y) dY/dx_i = 2 eps L'(Y),
//
//	x_i' = x_i - theta x_i (1 - x_i) dL/dx_i
//	       * (1 + eps (1 - 2 x_i) L''/L' + O(eps^2) + O(theta eps^2)).
//
// So the recursion is, to first order, GD on the frequencies with the
// factor x_i (1 - x_i) (Model.FirstOrderStep), the classical Fisher /
// Shahshahani gradient of population genetics: natural-gradient descent
// in the Fisher metric 1/(x(1-x)) of a Bernoulli frequency, i.e. plain GD
// with rate theta on z_i = 2 arcsin(sqrt(x_i)) (dz/dx = 1/sqrt(x(1-x))).
// Its relative error per step is eps |1 - 2 x_i| |L2/L1| + O(eps^2 +
// theta eps^2), with L1, L2 the first and second derivatives of L at Y:
// first order in eps in general, second order at x_i = 1/2
// (and zero for a linear loss, where the step is exact); the absolute error
// per step is O(theta eps^2), well inside the paper's O(theta^2 + eps^2).
//
// The paper's factor (2 - 2 x_i) (Model.PaperStep) does not hold: it is
// 2/x_i times the correct one, so its relative error is 2/x_i - 1 >= 1 for
// every x_i and does not shrink as theta, eps -> 0. (Its change of variable
// is off too: a factor f(x) on x is GD on z with dz/dx = 1/sqrt(f); GD on
// z = 2x - x^2 would give the factor 1/(2 - 2x)^2.) The tests show all of
// this numerically: TestFirstOrderFactor measures both candidates' one-step
// errors at decreasing theta and eps, TestConvergesLikeGD runs the
// recursion, its first-order step, GD on Y and a large Wright-Fisher
// population to the minimum of L(Y) = (Y - Y*)^2.
//
// # Where the recursion stops: O(eps) from the minimum
//
// The recursion is at rest where L(Y|+) = L(Y|-) for every gene, not where
// L'(Y) = 0. For L(Y) = (Y - Y*)^2 that is where the midpoint
// Y + eps (1 - 2 x_i) of Y|+ and Y|- equals Y*; with the genes of a
// coefficient at a common frequency, Y = eps n (2x - 1), this is
// Y = Y* n / (n - 1), a shift of Y*/(n - 1) = O(eps) (TestConvergesLikeGD,
// TestFixedPointShiftIsOrderEps). The first-order step and GD on Y stop at
// Y* itself. So evolution finds the minimum of L up to O(eps), the same
// order as its per-step agreement with the first-order step.
//
// # GD on Y
//
// Summing the first-order step over the genes of coefficient c moves the
// trait by dY_c = -4 theta eps^2 sum_{i in c} x_i (1 - x_i) dL/dY_c: GD on Y
// with a rate that is theta eps^2 n_c while the genes are at 1/2 and
// falls as they approach fixation. Model.GDStep uses the rate
// theta eps^2 n_c (Model.GDRate), the recursion's initial speed from
// x = 1/2, so the two can be compared on one time axis.
package evolution
