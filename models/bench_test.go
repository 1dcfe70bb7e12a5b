package models

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	fastgemm "github.com/plasticity-lab/plastic/graph/gemm"
	"github.com/plasticity-lab/plastic/internal/cputime"
	"github.com/plasticity-lab/plastic/optimizer"
)

// Training-step benchmarks: forward, backward and an optimizer step on one
// batch of random data, reporting samples/s. The Torch* benchmarks run the
// PyTorch peer (scripts/peer/torch_peer.py: the same networks in PyTorch,
// checked by parameter count) in the same session, so the ratio can be read
// from one run:
//
//	go test ./models/ -run ^$ -bench 'MLPTrainStep$|TorchMLP' -benchtime 300x -count 3
//	go test ./models/ -run ^$ -bench MLPVsTorch -count 3   (ratio in one line)
//
// With -tags openblas (and CGO_LDFLAGS=-lopenblas) graph/gemm.Use installs OpenBLAS.

// newStepper builds a model, a training session and an optimizer on one
// fixed batch of random data and returns a function doing one full step.
func newStepper(tb testing.TB, model string, in []int, batch int, optName string) (step func(), closeFn func()) {
	fastgemm.Use()
	m, err := New(model, in, 10, 1)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := m.NewSession(batch, true)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := optimizer.DefaultConfig()
	cfg.Name, cfg.LR = optName, 1e-3
	opt, err := optimizer.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, s.Input().Shape().TotalSize())
	for i := range x {
		x[i] = r.Float32()
	}
	y := make([]int, batch)
	for i := range y {
		y[i] = r.IntN(10)
	}
	if err := s.SetBatch(x, y); err != nil {
		tb.Fatal(err)
	}
	step = func() {
		if err := s.Run(); err != nil {
			tb.Fatal(err)
		}
		if err := opt.Step(s.ValueGrads()); err != nil {
			tb.Fatal(err)
		}
	}
	step() // warm: buffers allocated
	return step, func() { s.Close() }
}

func benchStep(b *testing.B, model string, in []int, batch int, optName string) {
	step, closeFn := newStepper(b, model, in, batch, optName)
	defer closeFn()
	b.ResetTimer()
	cpu0 := cputime.Process()
	for i := 0; i < b.N; i++ {
		step()
	}
	cpu := cputime.Process() - cpu0
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "samples/s")
	if cpu > 0 {
		// What the step costs in CPU time (both cores together), which
		// other jobs on the machine disturb less than the wall time.
		b.ReportMetric(float64(b.N*batch)/cpu, "samples/cpu-s")
	}
}

// BenchmarkMLPTrainStep is the paper's MLP, batch 128, Adam (the peer's setting).
func BenchmarkMLPTrainStep(b *testing.B) { benchStep(b, "mlp", []int{784}, 128, "adam") }

// BenchmarkMLPTrainStepNeuroPlastic is the same step with NeuroPlastic.
func BenchmarkMLPTrainStepNeuroPlastic(b *testing.B) {
	benchStep(b, "mlp", []int{784}, 128, "neuroplastic")
}

// BenchmarkCNNTrainStep is the authors' CIFAR CNN, batch 128, Adam.
func BenchmarkCNNTrainStep(b *testing.B) { benchStep(b, "cnn", []int{3, 32, 32}, 128, "adam") }

// BenchmarkResNet18TrainStep is ResNet-18 on CIFAR shapes, batch 128, Adam.
func BenchmarkResNet18TrainStep(b *testing.B) {
	benchStep(b, "resnet18", []int{3, 32, 32}, 128, "adam")
}

// peerPath is the PyTorch peer script, from this package's folder (where
// go test runs).
var peerPath = filepath.Join("..", "scripts", "peer", "torch_peer.py")

var (
	peerRate   = regexp.MustCompile(`samples/s=([0-9.]+)`)
	peerParams = regexp.MustCompile(`params=([0-9]+)`)
)

// peerModels are the Go models the peer's names stand for.
var peerModels = map[string][]int{"mlp": {784}, "cnn": {3, 32, 32}, "resnet18": {3, 32, 32}}

// peerSamples runs the PyTorch peer once and returns its samples/s; it
// skips the benchmark when python3 with torch is not installed, and fails
// when the peer's network has another parameter count than ours.
func peerSamples(b *testing.B, what string, steps int) float64 {
	if _, err := os.Stat(peerPath); err != nil {
		b.Skip("peer script missing:", peerPath)
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import torch").Run(); err != nil {
		b.Skip("PyTorch not installed (apt-get install -y python3-torch python3-torchvision)")
	}
	out, err := exec.Command("/usr/bin/python3", peerPath, what, "--threads", "2", "--steps", strconv.Itoa(steps)).CombinedOutput()
	if err != nil {
		b.Fatalf("peer: %v\n%s", err, out)
	}
	m, pc := peerRate.FindSubmatch(out), peerParams.FindSubmatch(out)
	if m == nil || pc == nil {
		b.Fatalf("peer printed no samples/s or params:\n%s", out)
	}
	ours, err := New(what, peerModels[what], 10, 1)
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, p := range ours.Params() {
		n += p.Value.Shape().TotalSize()
	}
	if got, _ := strconv.Atoi(string(pc[1])); got != n {
		b.Fatalf("the peer's %s has %d parameters, ours %d: not the same network", what, got, n)
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

// runTorchPeer reports the peer's samples/s as a benchmark of its own.
// The peer runs once (b.Loop runs this function once), outside the timed loop.
func runTorchPeer(b *testing.B, what string, steps int) {
	v := peerSamples(b, what, steps)
	for b.Loop() {
	}
	b.ReportMetric(v, "samples/s")
}

// BenchmarkMLPVsTorch times 300 of our MLP steps, the PyTorch peer's 300
// steps, and ours again, back to back, and reports both rates (ours: the
// better of the two) and their ratio.
func BenchmarkMLPVsTorch(b *testing.B) {
	torch := peerSamples(b, "mlp", 300)
	step, closeFn := newStepper(b, "mlp", []int{784}, 128, "adam")
	defer closeFn()
	best := 0.0
	for rep := 0; rep < 2; rep++ {
		t0 := time.Now()
		for i := 0; i < 300; i++ {
			step()
		}
		best = max(best, 300*128/time.Since(t0).Seconds())
		if rep == 0 {
			torch = max(torch, peerSamples(b, "mlp", 300))
		}
	}
	b.ReportMetric(best, "samples/s")
	b.ReportMetric(torch, "torch_samples/s")
	b.ReportMetric(best/torch, "x_torch")
}

// BenchmarkTorchMLP is PyTorch's MLP training step (batch 128, Adam).
func BenchmarkTorchMLP(b *testing.B) { runTorchPeer(b, "mlp", 300) }

// BenchmarkTorchCNN is PyTorch's step of the authors' CIFAR CNN (batch 128, Adam).
func BenchmarkTorchCNN(b *testing.B) { runTorchPeer(b, "cnn", 10) }

// BenchmarkTorchResNet18 is PyTorch's ResNet-18 training step (batch 128, Adam).
func BenchmarkTorchResNet18(b *testing.B) { runTorchPeer(b, "resnet18", 3) }
