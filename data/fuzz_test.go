package data

import (
	"bytes"
	"testing"
)

// idxSeedCorpus is the seed corpus of FuzzReadIDX: valid files of 1 to 4
// dimensions and the usual ways of being broken.
func idxSeedCorpus() [][]byte {
	img := encodeIDX([]int{2, 3, 3}, []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 255})
	return [][]byte{
		encodeIDX([]int{4}, []byte{0, 1, 2, 9}),
		img,
		encodeIDX([]int{1, 1, 1, 1}, []byte{42}),
		img[:len(img)-3],
		append(append([]byte{}, img...), 0),
		{0, 0, 8, 3, 0, 0, 0},
		{0, 0, 8, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		{0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0},
		{0x1f, 0x8b, 8, 0},
		{},
	}
}

// fuzzIDX is the property of ReadIDX: it never panics, and what it accepts
// has exactly prod(dims) bytes and encodes back to the same input.
func fuzzIDX(t *testing.T, in []byte) {
	idx, err := ReadIDX(bytes.NewReader(in))
	if err != nil {
		return
	}
	n := 1
	for _, d := range idx.Dims {
		if d <= 0 {
			t.Fatalf("accepted dimension %d", d)
		}
		n *= d
	}
	if len(idx.Data) != n {
		t.Fatalf("dims %v but %d bytes", idx.Dims, len(idx.Data))
	}
	if out := encodeIDX(idx.Dims, idx.Data); !bytes.Equal(out, in) {
		t.Fatalf("round trip differs: %x vs %x", out, in)
	}
}

func FuzzReadIDX(f *testing.F) {
	for _, s := range idxSeedCorpus() {
		f.Add(s)
	}
	f.Fuzz(fuzzIDX)
}

// TestReadIDXSeedCorpus runs the fuzz property over the seed corpus, and
// checks the corpus holds both accepted and rejected inputs.
func TestReadIDXSeedCorpus(t *testing.T) {
	ok, bad := 0, 0
	for _, s := range idxSeedCorpus() {
		fuzzIDX(t, s)
		if _, err := ReadIDX(bytes.NewReader(s)); err == nil {
			ok++
		} else {
			bad++
		}
	}
	if ok != 3 || bad != 7 {
		t.Fatalf("seed corpus: %d accepted, %d rejected; want 3 and 7", ok, bad)
	}
}
