package baseline

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/internal/param"
	"github.com/plasticity-lab/plastic/models"
	"github.com/plasticity-lab/plastic/train"
)

func tinyNet(t *testing.T, T int, seed int64) *models.RNN {
	t.Helper()
	net, err := models.NewRNN(models.RNNConfig{Inputs: 4, Labels: 3, Nodes: 7, P: 0.7, Cap: 3, T: T}, seed)
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// refLoss is the mean cross-entropy of net's float64 reference forward pass
// (models.RNN.Forward), independent of the Gorgonia graph.
func refLoss(t *testing.T, net *models.RNN, x []float32, y []int) float64 {
	t.Helper()
	n := net.Inputs
	s := 0.0
	for i, l := range y {
		p, err := net.Forward(x[i*n : (i+1)*n])
		if err != nil {
			t.Fatal(err)
		}
		mx := math.Inf(-1)
		for _, v := range p.Logits {
			mx = max(mx, v)
		}
		z := 0.0
		for _, v := range p.Logits {
			z += math.Exp(v - mx)
		}
		s += -(p.Logits[l] - mx - math.Log(z))
	}
	return s / float64(len(y))
}

func randomBatch(rng *rand.Rand, b, n, m int) ([]float32, []int) {
	x := make([]float32, b*n)
	for i := range x {
		x[i] = rng.Float32()
	}
	y := make([]int, b)
	for i := range y {
		y[i] = rng.Intn(m)
	}
	return x, y
}

// TestGradientFiniteDifferences checks the graph's gradient with respect to
// U and W (and A, b, c) against central differences of the float64
// reference forward pass, for T = 2 so that W matters.
func TestGradientFiniteDifferences(t *testing.T) {
	net := tinyNet(t, 2, 3)
	Init(net, ModeAll, rand.New(rand.NewSource(4)))
	cfg := DefaultConfig()
	cfg.Float64, cfg.Batch = true, 5
	tr, err := NewTrainer(net, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	x, y := randomBatch(rand.New(rand.NewSource(5)), 4, net.Inputs, net.Labels) // 4 of 5: one padded row
	loss, err := tr.LossGrad(x, y)
	if err != nil {
		t.Fatal(err)
	}
	if ref := refLoss(t, net, x, y); math.Abs(loss-ref) > 1e-12 {
		t.Fatalf("graph loss %v, reference forward %v", loss, ref)
	}
	gA, gW, gU, gB, gC := tr.Grads()
	const h = 1e-6
	check := func(name string, w []float64, g []float64, mask []float64) {
		if len(g) != len(w) {
			t.Fatalf("%s: gradient has %d entries, want %d", name, len(g), len(w))
		}
		nonzero := 0
		for i := range w {
			old := w[i]
			w[i] = old + h
			lp := refLoss(t, net, x, y)
			w[i] = old - h
			lm := refLoss(t, net, x, y)
			w[i] = old
			fd := (lp - lm) / (2 * h)
			if mask != nil && mask[i] == 0 && g[i] != 0 {
				t.Errorf("%s[%d]: gradient %v on a masked-out edge", name, i, g[i])
			}
			if math.Abs(fd-g[i]) > 1e-6*(1+math.Abs(fd)) {
				t.Errorf("%s[%d]: graph gradient %.10g, finite difference %.10g", name, i, g[i], fd)
			}
			if g[i] != 0 {
				nonzero++
			}
		}
		if nonzero == 0 {
			t.Errorf("%s: gradient is all zero; the check proves nothing", name)
		}
	}
	check("U", net.U, gU, nil)
	check("W", net.W, gW, net.GraphMask)
	check("A", net.A, gA, net.InMask)
	check("b", net.B, gB, nil)
	check("c", net.C, gC, nil)
}

func TestOutputModeTrainsOnlyU(t *testing.T) {
	net := tinyNet(t, 2, 7)
	Init(net, ModeOutput, rand.New(rand.NewSource(1)))
	cfg := DefaultConfig()
	cfg.Mode, cfg.Batch = ModeOutput, 8
	tr, err := NewTrainer(net, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	x, y := randomBatch(rand.New(rand.NewSource(2)), 8, net.Inputs, net.Labels)
	for i := 0; i < 3; i++ {
		if _, err := tr.Step(x, y); err != nil {
			t.Fatal(err)
		}
	}
	got, err := tr.Network()
	if err != nil {
		t.Fatal(err)
	}
	same := func(a, b []float64) bool {
		for i := range a {
			if a[i] != b[i] {
				return false
			}
		}
		return true
	}
	if !same(got.A, net.A) || !same(got.W, net.W) || !same(got.B, net.B) {
		t.Error("output-only training changed A, W or b")
	}
	if same(got.U, net.U) {
		t.Error("output-only training left U unchanged")
	}
}

// TestHalfspaceAboveChance trains a small network by GD (through train.Run)
// on a small Halfspace set and expects a clearly-above-chance accuracy.
func TestHalfspaceAboveChance(t *testing.T) {
	trainSet, testSet, err := data.Load("halfspace", data.Options{Seed: 1, NTrain: 2000, NTest: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []Mode{ModeAll, ModeOutput} {
		net, err := models.NewRNN(models.RNNConfig{Inputs: trainSet.Dim, Labels: 2, Nodes: 100, P: 0.5, Cap: 50, T: 1}, 2)
		if err != nil {
			t.Fatal(err)
		}
		Init(net, mode, rand.New(rand.NewSource(3)))
		before, err := Accuracy(net, testSet)
		if err != nil {
			t.Fatal(err)
		}
		cfg := DefaultConfig()
		cfg.Mode, cfg.Batch, cfg.Epochs = mode, 50, 5
		tr, err := NewTrainer(net, cfg)
		if err != nil {
			t.Fatal(err)
		}
		task, err := NewTask(tr, trainSet, testSet)
		if err != nil {
			t.Fatal(err)
		}
		var last map[string]float64
		hook := train.Every{N: 1, F: func(*train.State) error { return nil }}
		end := epochHook(func(s *train.State) { last = s.EpochMetrics })
		if err := train.Run(context.Background(), task, train.Options{Hooks: []any{hook, end, train.NaNCheck{}}}); err != nil {
			t.Fatal(err)
		}
		tr.Close()
		trained, err := tr.Network()
		if err != nil {
			t.Fatal(err)
		}
		acc, err := Accuracy(trained, testSet)
		if err != nil {
			t.Fatal(err)
		}
		if acc != last["test_acc"] {
			t.Errorf("%s: epoch metric test_acc %v, Accuracy %v", mode, last["test_acc"], acc)
		}
		t.Logf("%s: test accuracy %.3f before, %.3f after", mode, before, acc)
		if acc < 0.8 {
			t.Errorf("%s: test accuracy %.3f after GD, want >= 0.8 (chance ~0.5)", mode, acc)
		}
	}
}

type epochHook func(*train.State)

func (f epochHook) OnEpochEnd(s *train.State) error { f(s); return nil }

func TestNetworkFileRoundTrip(t *testing.T) {
	net := tinyNet(t, 3, 9)
	Init(net, ModeAll, rand.New(rand.NewSource(1)))
	net.Multiplicative = true
	info := NetInfo{Trainer: "gd-all", Dataset: "halfspace", Epochs: 2, TestAcc: 0.75, Seed: 9}
	path := filepath.Join(t.TempDir(), "sub", "net.rnn")
	if err := SaveRNN(path, net, info); err != nil {
		t.Fatal(err)
	}
	got, gotInfo, err := LoadRNN(path)
	if err != nil {
		t.Fatal(err)
	}
	if gotInfo != info {
		t.Errorf("info %+v, want %+v", gotInfo, info)
	}
	if got.RNNConfig != net.RNNConfig {
		t.Errorf("config %+v, want %+v", got.RNNConfig, net.RNNConfig)
	}
	for _, p := range [][2][]float64{{got.A, net.A}, {got.InMask, net.InMask}, {got.GraphMask, net.GraphMask},
		{got.W, net.W}, {got.U, net.U}, {got.B, net.B}, {got.C, net.C}} {
		for i := range p[1] {
			if p[0][i] != p[1][i] {
				t.Fatalf("value %d differs: %v, want %v", i, p[0][i], p[1][i])
			}
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("folder holds %d files after an atomic save, want 1", len(entries))
	}

	var buf bytes.Buffer
	if err := WriteRNN(&buf, net, info); err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()
	bad := func(name string, b []byte, want string) {
		t.Helper()
		_, _, err := ReadRNN(bytes.NewReader(b), "net.rnn")
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "net.rnn") {
			t.Errorf("%s: error %v, want one naming the file and containing %q", name, err, want)
		}
	}
	flipped := append([]byte(nil), raw...)
	flipped[len(flipped)-20] ^= 1
	bad("flipped bit", flipped, "checksum")
	bad("truncated", raw[:len(raw)-30], "truncated")
	bad("not a network", []byte("PLASTCKP0000000000000000"), "magic")
	bad("trailing", append(append([]byte(nil), raw...), 0), "trailing")

	net.W[0] = math.NaN()
	if err := SaveRNN(path, net, info); err == nil || !strings.Contains(err.Error(), "not finite") {
		t.Errorf("saving a NaN weight: %v, want a refusal", err)
	}
	if _, _, err := LoadRNN(path); err != nil {
		t.Errorf("the refused save damaged the old file: %v", err)
	}
	if _, _, err := LoadRNN(filepath.Join(t.TempDir(), "missing.rnn")); err == nil || !strings.Contains(err.Error(), "missing.rnn") {
		t.Errorf("missing file: %v", err)
	}
}

func TestBadConfigAndData(t *testing.T) {
	net := tinyNet(t, 1, 1)
	for _, c := range []struct {
		mod  func(*Config)
		want string
	}{
		{func(c *Config) { c.Mode = "weights" }, "train"},
		{func(c *Config) { c.LR = -1 }, "lr"},
		{func(c *Config) { c.LR = math.NaN() }, "lr"},
		{func(c *Config) { c.Batch = 0 }, "batch"},
		{func(c *Config) { c.Epochs = 0 }, "epochs"},
	} {
		cfg := DefaultConfig()
		c.mod(&cfg)
		_, err := NewTrainer(net, cfg)
		var pe *param.Error
		if !errors.As(err, &pe) || pe.Name != c.want {
			t.Errorf("config %+v: error %v, want one about the parameter %s", cfg, err, c.want)
		}
	}
	tr, err := NewTrainer(net, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	wrong := &data.Set{Name: "wide", X: make([]float32, 10), Y: make([]int, 2), N: 2, Dim: 5, Classes: 3}
	if _, err := NewTask(tr, wrong, nil); err == nil || !strings.Contains(err.Error(), "5 features") {
		t.Errorf("mismatched data: %v", err)
	}
	if _, err := tr.Step(make([]float32, 4), []int{7}); err == nil || !strings.Contains(err.Error(), "label 7") {
		t.Errorf("bad label: %v", err)
	}
}

// TestPartialBatchSharesWeights: a step on a short final batch (its own
// graph) updates the weights every graph uses, and the loss is the mean over
// the real examples only.
func TestPartialBatchSharesWeights(t *testing.T) {
	net := tinyNet(t, 2, 12)
	Init(net, ModeAll, rand.New(rand.NewSource(1)))
	cfg := DefaultConfig()
	cfg.Float64, cfg.Batch = true, 5
	tr, err := NewTrainer(net, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	x, y := randomBatch(rand.New(rand.NewSource(2)), 5, net.Inputs, net.Labels)
	loss, err := tr.Step(x[:3*net.Inputs], y[:3])
	if err != nil {
		t.Fatal(err)
	}
	if ref := refLoss(t, net, x[:3*net.Inputs], y[:3]); math.Abs(loss-ref) > 1e-12 {
		t.Errorf("partial batch loss %v, mean over its 3 examples %v", loss, ref)
	}
	after, err := tr.Network()
	if err != nil {
		t.Fatal(err)
	}
	changed := 0
	for i := range net.U {
		if after.U[i] != net.U[i] {
			changed++
		}
	}
	if changed == 0 {
		t.Error("the step on the short batch did not reach the shared weights")
	}
	full, err := tr.LossGrad(x, y)
	if err != nil {
		t.Fatal(err)
	}
	if ref := refLoss(t, after, x, y); math.Abs(full-ref) > 1e-12 {
		t.Errorf("full-batch graph loss %v after the short step, reference on the updated network %v", full, ref)
	}
}

// TestLargeLogitsFinite: logits of hundreds that differ across the rows of
// a batch give a finite loss (Gorgonia's batched LogSoftMax does not).
func TestLargeLogitsFinite(t *testing.T) {
	net := tinyNet(t, 2, 5)
	Init(net, ModeAll, rand.New(rand.NewSource(1)))
	for i := range net.U {
		net.U[i] *= 1000
	}
	cfg := DefaultConfig()
	cfg.Batch = 6
	tr, err := NewTrainer(net, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	x, y := randomBatch(rand.New(rand.NewSource(3)), 6, net.Inputs, net.Labels)
	for i := 0; i < net.Inputs; i++ {
		x[5*net.Inputs+i] *= 0.001
	}
	loss, err := tr.LossGrad(x, y)
	if err != nil || math.IsNaN(loss) || math.IsInf(loss, 0) {
		t.Fatalf("loss %v, %v", loss, err)
	}
	if ref := refLoss(t, net, x, y); math.Abs(loss-ref) > 1e-3*ref {
		t.Errorf("loss %v, reference %v", loss, ref)
	}
}

// withMeta rebuilds a network file with its meta block edited by f (length
// and checksum recomputed), as files written by earlier versions look.
func withMeta(t *testing.T, raw []byte, f func(string) string) []byte {
	t.Helper()
	ml := binary.LittleEndian.Uint32(raw[12:16])
	meta := f(string(raw[16 : 16+ml]))
	var b bytes.Buffer
	b.Write(raw[:12])
	binary.Write(&b, binary.LittleEndian, uint32(len(meta)))
	b.WriteString(meta)
	b.Write(raw[16+ml : len(raw)-4])
	binary.Write(&b, binary.LittleEndian, crc32.ChecksumIEEE(b.Bytes()))
	return b.Bytes()
}

// TestNetworkFileFiring: the firing definition is stored as "firing";
// files written before that field hold "topk_firing" (false = the paper's
// definition, then the default) or nothing (the paper's definition, the
// only one then) and load as what they were trained with; a file whose
// two fields disagree is refused with a clear message.
func TestNetworkFileFiring(t *testing.T) {
	for _, f := range []models.Firing{models.FiringTopK, models.FiringNonzero} {
		net := tinyNet(t, 3, 9)
		net.Firing = f
		var buf bytes.Buffer
		if err := WriteRNN(&buf, net, NetInfo{}); err != nil {
			t.Fatal(err)
		}
		raw := buf.Bytes()
		if want := `"firing":"` + f.String() + `"`; !strings.Contains(string(raw), want) || strings.Contains(string(raw), "topk_firing") {
			t.Fatalf("meta block lacks %s or still writes topk_firing", want)
		}
		got, _, err := ReadRNN(bytes.NewReader(raw), "net.rnn")
		if err != nil || got.Firing != f {
			t.Fatalf("%s: read back %v, %v", f, got, err)
		}
	}
	net := tinyNet(t, 3, 9)
	var buf bytes.Buffer
	if err := WriteRNN(&buf, net, NetInfo{}); err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()
	for _, c := range []struct {
		name, replace string
		want          models.Firing
		err           string
	}{
		{"legacy topk_firing true", `"topk_firing":true`, models.FiringTopK, ""},
		{"legacy topk_firing false", `"topk_firing":false`, models.FiringNonzero, ""},
		{"no firing field", `"input_ones":false`, models.FiringNonzero, ""},
		{"both, agreeing", `"firing":"nonzero","topk_firing":false`, models.FiringNonzero, ""},
		{"both, disagreeing", `"firing":"topk","topk_firing":false`, 0, "disagree"},
		{"unknown name", `"firing":"positive"`, 0, "want topk"},
	} {
		b := withMeta(t, raw, func(m string) string {
			m = strings.Replace(m, `,"firing":"topk"`, "", 1)
			if c.replace == `"input_ones":false` {
				return m
			}
			return strings.Replace(m, `"input_ones":false`, `"input_ones":false,`+c.replace, 1)
		})
		got, _, err := ReadRNN(bytes.NewReader(b), "old.rnn")
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), "old.rnn") {
				t.Errorf("%s: error %v, want one naming the file and containing %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil || got.Firing != c.want {
			t.Errorf("%s: firing %v (%v), want %s", c.name, got, err, c.want)
		}
	}
}
