package data

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cifarRecords returns n records whose label is (i+first)%10 and whose
// pixel j is (i+j)%256.
func cifarRecords(n, first int) []byte {
	b := make([]byte, 0, n*cifarRecord)
	for i := 0; i < n; i++ {
		b = append(b, byte((i+first)%10))
		for j := 0; j < cifarPixels; j++ {
			b = append(b, byte((i+j)%256))
		}
	}
	return b
}

func TestReadCIFARFiles(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.bin"), filepath.Join(dir, "b.bin")
	os.WriteFile(a, cifarRecords(3, 0), 0o644)
	os.WriteFile(b, cifarRecords(2, 3), 0o644)
	s, err := ReadCIFARFiles("cifar10", a, b)
	if err != nil {
		t.Fatal(err)
	}
	if s.N != 5 || s.Dim != 3072 || s.Classes != 10 || len(s.Shape) != 3 || s.Shape[0] != 3 || s.Shape[1] != 32 {
		t.Fatalf("set %d %d %v", s.N, s.Dim, s.Shape)
	}
	for i := 0; i < 5; i++ {
		if s.Y[i] != i%10 {
			t.Fatalf("label %d = %d", i, s.Y[i])
		}
	}
	// Example 3 is the first record of b: pixel j = j%256 / 255; the
	// green channel starts at 1024.
	if got, want := s.Row(3)[1024+5], float32(5)/255; got != want {
		t.Fatalf("pixel %v, want %v", got, want)
	}
	if got, want := s.Row(1)[255], float32(0); got != want {
		t.Fatalf("pixel %v, want %v", got, want)
	}
}

func TestReadCIFARErrors(t *testing.T) {
	dir := t.TempDir()
	trunc := filepath.Join(dir, "trunc.bin")
	os.WriteFile(trunc, cifarRecords(2, 0)[:2*cifarRecord-10], 0o644)
	empty := filepath.Join(dir, "empty.bin")
	os.WriteFile(empty, nil, 0o644)
	wrong := filepath.Join(dir, "wrong.bin")
	os.WriteFile(wrong, make([]byte, 3072), 0o644)
	badLabel := filepath.Join(dir, "label.bin")
	rec := cifarRecords(2, 0)
	rec[cifarRecord] = 12
	os.WriteFile(badLabel, rec, 0o644)
	for _, c := range []struct{ path, want string }{
		{trunc, "not a whole number of 3073-byte"},
		{empty, "0 bytes"},
		{wrong, "3072 bytes"},
		{badLabel, "record 1 has label 12"},
		{filepath.Join(dir, "none.bin"), "no such file"},
	} {
		_, err := ReadCIFARFiles("cifar10", c.path)
		if err == nil || !strings.Contains(err.Error(), c.path) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want the path and %q", c.path, err, c.want)
		}
	}
}

func TestLoadCIFARFromFolder(t *testing.T) {
	dataDir := t.TempDir()
	dir := filepath.Join(dataDir, "cifar10", "cifar-10-batches-bin") // as the archive unpacks
	os.MkdirAll(dir, 0o755)
	for i, f := range CIFARTrainFiles {
		os.WriteFile(filepath.Join(dir, f), cifarRecords(2, i), 0o644)
	}
	if _, _, err := Load("cifar10", Options{Dir: dataDir}); err == nil || !strings.Contains(err.Error(), "plastic data fetch cifar10") {
		t.Fatalf("missing test batch: %v", err)
	}
	os.WriteFile(filepath.Join(dir, CIFARTestFile), cifarRecords(4, 0), 0o644)
	train, test, err := Load("cifar-10", Options{Dir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 10 || test.N != 4 {
		t.Fatalf("train %d test %d", train.N, test.N)
	}
}

func TestAugment(t *testing.T) {
	// One 1x3x3 image 1..9; pad 1.
	img := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}
	a := NewAugment(7, []int{1, 3, 3}, 1, true, []float32{-1})
	seen := map[string]bool{}
	for b := 0; b < 200; b++ {
		x := append([]float32{}, img...)
		a.Apply(1, b, x, 1)
		// Recover the shift and flip by brute force: x must be one of the
		// 9 crops of the padded image, possibly mirrored.
		found := ""
		for dy := -1; dy <= 1; dy++ {
			for dx := -1; dx <= 1; dx++ {
				for _, flip := range []bool{false, true} {
					ok := true
					for i := 0; i < 3 && ok; i++ {
						for j := 0; j < 3; j++ {
							jj := j
							if flip {
								jj = 2 - j
							}
							si, sj := i+dy, jj+dx
							want := float32(-1)
							if si >= 0 && si < 3 && sj >= 0 && sj < 3 {
								want = img[si*3+sj]
							}
							if x[i*3+j] != want {
								ok = false
								break
							}
						}
					}
					if ok {
						found = strings.Repeat("f", map[bool]int{false: 0, true: 1}[flip]) + string(rune('0'+dy+1)) + string(rune('0'+dx+1))
					}
				}
			}
		}
		if found == "" {
			t.Fatalf("batch %d: %v is no crop/flip of the image", b, x)
		}
		seen[found] = true
	}
	if len(seen) != 18 {
		t.Fatalf("200 draws gave %d of the 18 crop/flip combinations", len(seen))
	}
	// Same (seed, epoch, batch) -> same result; another epoch differs somewhere.
	x1 := make([]float32, 9*8)
	x2 := make([]float32, 9*8)
	x3 := make([]float32, 9*8)
	for e := 0; e < 8; e++ {
		copy(x1[e*9:], img)
		copy(x2[e*9:], img)
		copy(x3[e*9:], img)
	}
	NewAugment(3, []int{1, 3, 3}, 1, true, nil).Apply(2, 5, x1, 8)
	NewAugment(3, []int{1, 3, 3}, 1, true, nil).Apply(2, 5, x2, 8)
	NewAugment(3, []int{1, 3, 3}, 1, true, nil).Apply(3, 5, x3, 8)
	same := true
	for i := range x1 {
		if x1[i] != x2[i] {
			t.Fatal("same seed, epoch and batch gave different augmentations")
		}
		if x1[i] != x3[i] {
			same = false
		}
	}
	if same {
		t.Fatal("another epoch gave the same augmentation of 8 images")
	}
}

func TestCIFARAugmentFill(t *testing.T) {
	a := CIFARAugment(1)
	for c := 0; c < 3; c++ {
		want := -CIFARMean[c] / CIFARStd[c]
		if a.Fill[c] != want || a.Pad != 4 || !a.Flip {
			t.Fatalf("channel %d fill %v, want %v", c, a.Fill[c], want)
		}
	}
}
