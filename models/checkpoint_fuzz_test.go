package models_test

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"testing"

	"gorgonia.org/tensor"

	"github.com/plasticity-lab/plastic/models"
)

// tiny is a classifier of three small tensors, so fuzz inputs stay a few
// hundred bytes (a real MLP's checkpoint is 100s of KB).
type tiny struct{ params, bufs []models.Tensor }

func newTiny() *tiny {
	t := func(name string, shape ...int) models.Tensor {
		n := 1
		for _, d := range shape {
			n *= d
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(i) / 4
		}
		return models.Tensor{Name: name, Value: tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))}
	}
	return &tiny{params: []models.Tensor{t("fc.weight", 2, 3), t("fc.bias", 2)}, bufs: []models.Tensor{t("bn.running_mean", 2)}}
}

func (m *tiny) Name() string             { return "tiny" }
func (m *tiny) InputShape() []int        { return []int{3} }
func (m *tiny) Classes() int             { return 2 }
func (m *tiny) Params() []models.Tensor  { return m.params }
func (m *tiny) Buffers() []models.Tensor { return m.bufs }
func (m *tiny) NewSession(int, bool) (*models.Session, error) {
	return nil, errors.New("tiny: no sessions")
}

// optBlob is an optimizer state as opaque bytes: the checkpoint reader
// hands the block over untouched (the optimizer parses it; optimizer has
// its own tests).
type optBlob []byte

func (o optBlob) SaveState(w io.Writer) error { _, err := w.Write(o); return err }
func (o *optBlob) LoadState(r io.Reader) error {
	b, err := io.ReadAll(r)
	*o = b
	return err
}

// fuzzModel is the model every fuzz input is read into.
func fuzzModel(testing.TB) (models.Classifier, *optBlob) {
	return newTiny(), new(optBlob)
}

type trainerState struct {
	Epoch int     `json:"epoch"`
	Best  float64 `json:"best"`
}

// checkpointSeedCorpus: valid checkpoints with and without trainer state,
// one without the optimizer state that is asked for, and the usual ways of being broken (with and without a repaired CRC, so
// the fuzzer reaches the structure behind the checksum).
func checkpointSeedCorpus(t testing.TB) [][]byte {
	m, _ := fuzzModel(t)
	dir := t.TempDir()
	p := filepath.Join(dir, "a.bin")
	if err := models.SaveCheckpoint(p, m, trainerState{Epoch: 2, Best: 0.5}, optBlob("adam state")); err != nil {
		t.Fatal(err)
	}
	good, err := readFile(p)
	if err != nil {
		t.Fatal(err)
	}
	q := filepath.Join(dir, "b.bin")
	if err := models.SaveCheckpoint(q, m, nil, optBlob("x")); err != nil {
		t.Fatal(err)
	}
	noTrainer, _ := readFile(q)
	r := filepath.Join(dir, "c.bin")
	if err := models.SaveCheckpoint(r, m, nil, nil); err != nil {
		t.Fatal(err)
	}
	noOpt, _ := readFile(r)
	flip := append([]byte{}, good...)
	flip[len(flip)/2] ^= 0x40
	bigCount := withCRC(append([]byte{}, good[:len(good)-4]...))
	// The tensor count (after magic, version, meta length and meta).
	metaLen := binary.LittleEndian.Uint32(good[12:16])
	binary.LittleEndian.PutUint32(bigCount[16+metaLen:], 1<<30)
	bigCount = withCRC(bigCount[:len(bigCount)-4])
	return [][]byte{
		good,
		noTrainer,
		noOpt, // refused: the trainer wants optimizer state
		flip,
		withCRC(flip[:len(flip)-4]),
		good[:len(good)/3],
		withCRC(good[:len(good)/3]),
		bigCount,
		[]byte("PLASTCKP"),
		{},
	}
}

// withCRC appends the CRC-32 the format ends with.
func withCRC(body []byte) []byte {
	return binary.LittleEndian.AppendUint32(append([]byte{}, body...), crc32.ChecksumIEEE(body))
}

// fuzzCheckpoint is the property of DecodeCheckpoint: it never panics,
// and what it accepts saves and reads back to the same weights and
// optimizer block.
func fuzzCheckpoint(t *testing.T, in []byte) bool {
	m, o := fuzzModel(t)
	var st trainerState
	err := models.DecodeCheckpoint(in, "fuzz.bin", m, &st, o)
	if err != nil {
		return false
	}
	p := filepath.Join(t.TempDir(), "again.bin")
	if err := models.SaveCheckpoint(p, m, st, *o); err != nil {
		// Non-finite weights decode but are never saved: a clear refusal.
		return true
	}
	m2, o2 := fuzzModel(t)
	if err := models.LoadCheckpoint(p, m2, nil, o2); err != nil {
		t.Fatalf("an accepted checkpoint saved again does not load: %v", err)
	}
	if string(*o2) != string(*o) {
		t.Fatalf("optimizer block %q then %q", *o, *o2)
	}
	for i, x := range m.Params() {
		a, b := x.Value.Float32s(), m2.Params()[i].Value.Float32s()
		for j := range a {
			if a[j] != b[j] {
				t.Fatalf("tensor %s element %d: %v then %v", x.Name, j, a[j], b[j])
			}
		}
	}
	return true
}

func FuzzDecodeCheckpoint(f *testing.F) {
	for _, s := range checkpointSeedCorpus(f) {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, in []byte, fixCRC bool) {
		if fixCRC && len(in) >= 4 {
			in = withCRC(in[:len(in)-4])
		}
		fuzzCheckpoint(t, in)
	})
}

// TestDecodeCheckpointSeedCorpus runs the fuzz property over the seed
// corpus, which holds both accepted and rejected inputs.
func TestDecodeCheckpointSeedCorpus(t *testing.T) {
	ok, bad := 0, 0
	for _, s := range checkpointSeedCorpus(t) {
		if fuzzCheckpoint(t, s) {
			ok++
		} else {
			bad++
		}
	}
	if ok != 2 || bad != 8 {
		t.Fatalf("seed corpus: %d accepted, %d rejected; want 2 and 8", ok, bad)
	}
	// Errors about the file wrap ErrCheckpoint.
	m, o := fuzzModel(t)
	if err := models.DecodeCheckpoint([]byte("nope"), "x.bin", m, nil, o); !errors.Is(err, models.ErrCheckpoint) {
		t.Fatalf("garbage: %v", err)
	}
}

func readFile(p string) ([]byte, error) { return os.ReadFile(p) }
