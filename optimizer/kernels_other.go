//go:build !amd64 || noasm

package optimizer

// Without the amd64 assembly every pass runs in Go: the fast paths report
// that they handled no element.

func fastGradSums(g []float32) (sumAbs, sumSq float64, done int) { return 0, 0, 0 }

func (t *npTensor[T]) fastPass1(k *npK[T], w *npWork) int { return 0 }

func (t *npTensor[T]) fastCoef(k *npK[T], w *npWork, al *alphaLocal[T]) int { return 0 }

func (t *npTensor[T]) fastApply(c T) (float64, int) { return 0, 0 }

func fastAdam(p, g, m, v []float32, k *adamK[float32]) (sp, su float64, done int) { return 0, 0, 0 }
