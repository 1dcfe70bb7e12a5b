package graph

// Dropout masks come from a counter-based generator, the same on the CPU
// and on the device (the kernel pl_uniform in cuda/kernels.go computes
// DropUniform bit for bit): element i of a layer's output is kept when
// DropUniform(key, ctr+i) >= p, where ctr is the stream's counter when the
// layer runs; each layer then advances the counter by its element count.
// A session's stream is reset from (seed, stream) at the start of every
// epoch (Session.Reseed), so a seed gives the same masks on the CPU and
// on the device, and from any epoch on (resume).

// DropStream is the state of a dropout stream: its key and the counter of
// the next element.
type DropStream struct {
	Key, Ctr uint64
}

// NewDropStream returns the stream (seed, stream) at counter 0.
func NewDropStream(seed, stream uint64) DropStream {
	return DropStream{Key: mix64(mix64(seed) ^ (stream+1)*0x9E3779B97F4A7C15)}
}

// mix64 is splitmix64's finaliser.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// DropUniform is the number at position ctr of stream key: the splitmix64
// output, uniform on [0, 1) from its top 24 bits (exact in float32).
func DropUniform(key, ctr uint64) float32 {
	return float32(mix64(key+(ctr+1)*0x9E3779B97F4A7C15)>>40) * (1.0 / 16777216)
}
