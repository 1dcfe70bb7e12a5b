package models

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"

	fastgemm "github.com/plasticity-lab/plastic/graph/gemm"
	"github.com/plasticity-lab/plastic/optimizer"
)

// Training-step benchmarks: forward, backward and an optimizer step on one
// batch of random data, reporting samples/s. The Torch* benchmarks run the
// PyTorch peer (shared/peers/torch_peer.py) in the same session, so the
// ratio can be read from one run:
//
//	go test ./models/ -run ^$ -bench 'MLP|TorchMLP' -benchtime 200x -count 3
//
// With -tags openblas (and CGO_LDFLAGS=-lopenblas) graph/gemm.Use installs OpenBLAS.

func benchStep(b *testing.B, model string, in []int, batch int, optName string) {
	fastgemm.Use()
	m, err := New(model, in, 10, 1)
	if err != nil {
		b.Fatal(err)
	}
	s, err := m.NewSession(batch, true)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	cfg := optimizer.DefaultConfig()
	cfg.Name, cfg.LR = optName, 1e-3
	opt, err := optimizer.New(cfg)
	if err != nil {
		b.Fatal(err)
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
		b.Fatal(err)
	}
	step := func() {
		if err := s.Run(); err != nil {
			b.Fatal(err)
		}
		if err := opt.Step(s.ValueGrads()); err != nil {
			b.Fatal(err)
		}
	}
	step() // warm: buffers allocated
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		step()
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "samples/s")
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

// peerPath is the PyTorch peer script of the team.
const peerPath = "/work/shared/peers/torch_peer.py"

var peerRate = regexp.MustCompile(`samples/s=([0-9.]+)`)

// runTorchPeer runs the peer once per b.N iteration block and reports its
// samples/s; it skips when python3 with torch is not installed.
func runTorchPeer(b *testing.B, what string, steps int) {
	if _, err := os.Stat(peerPath); err != nil {
		b.Skip("peer script missing:", peerPath)
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import torch").Run(); err != nil {
		b.Skip("PyTorch not installed (apt-get install -y python3-torch python3-torchvision)")
	}
	b.N = 1
	out, err := exec.Command("/usr/bin/python3", peerPath, what, "--threads", "2", "--steps", strconv.Itoa(steps)).CombinedOutput()
	if err != nil {
		b.Fatalf("peer: %v\n%s", err, out)
	}
	m := peerRate.FindSubmatch(out)
	if m == nil {
		b.Fatalf("peer printed no samples/s:\n%s", out)
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	b.Logf("%s", out)
	b.ReportMetric(v, "samples/s")
}

// BenchmarkTorchMLP is PyTorch's MLP training step (batch 128, Adam).
func BenchmarkTorchMLP(b *testing.B) { runTorchPeer(b, "mlp", 300) }

// BenchmarkTorchResNet18 is PyTorch's ResNet-18 training step (batch 128, Adam).
func BenchmarkTorchResNet18(b *testing.B) { runTorchPeer(b, "resnet18", 3) }
