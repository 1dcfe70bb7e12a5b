package data

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// mnistServer serves the real MNIST files of the GoMNIST module, altered
// by tamper (nil: as they are).
func mnistServer(t *testing.T, tamper func(w http.ResponseWriter, name string, body []byte) bool) *httptest.Server {
	src := goMNISTData(t)
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := filepath.Base(r.URL.Path)
		body, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		if tamper != nil && tamper(w, name, body) {
			return
		}
		w.Write(body)
	}))
}

// leftovers lists what is in dir (recursively), to check failed downloads
// leave nothing.
func leftovers(t *testing.T, dir string) []string {
	var out []string
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func TestFetchGood(t *testing.T) {
	srv := mnistServer(t, nil)
	defer srv.Close()
	dir := t.TempDir()
	var log bytes.Buffer
	if err := Fetch(context.Background(), "mnist", dir, FetchOptions{Client: srv.Client(), Mirror: srv.URL, Progress: &log}); err != nil {
		t.Fatal(err)
	}
	if got := leftovers(t, dir); len(got) != 4 {
		t.Fatalf("files %v", got)
	}
	if !strings.Contains(log.String(), "train-images-idx3-ubyte.gz: 9.9 MB downloaded, checksum ok") {
		t.Fatalf("progress output %q", log.String())
	}
	checks, err := Verify("mnist", dir)
	if err != nil || len(checks) != 4 || !strings.HasPrefix(checks[0].Path, dir) {
		t.Fatalf("verify: %v %+v", err, checks)
	}
	// A second fetch keeps the files (no server needed).
	srv.Close()
	log.Reset()
	if err := Fetch(context.Background(), "mnist", dir, FetchOptions{Mirror: srv.URL, Progress: &log}); err != nil {
		t.Fatal(err)
	}
	if strings.Count(log.String(), "already there") != 4 {
		t.Fatalf("second fetch: %q", log.String())
	}
	train, test, err := Load("mnist", Options{Dir: dir})
	if err != nil || train.N != 60000 || test.N != 10000 {
		t.Fatalf("load after fetch: %v", err)
	}
	// Corrupt one file: verify names it.
	p := filepath.Join(dir, "mnist", "t10k-labels-idx1-ubyte.gz")
	b, _ := os.ReadFile(p)
	b[100] ^= 1
	os.WriteFile(p, b, 0o644)
	checks, err = Verify("mnist", dir)
	if err == nil || !strings.Contains(err.Error(), "1 of 4 files failed") {
		t.Fatalf("verify corrupt: %v", err)
	}
	for _, c := range checks {
		if c.Path == p && (c.OK || !strings.Contains(c.Problem, "SHA-256 mismatch")) {
			t.Fatalf("check %+v", c)
		}
	}
}

func TestFetchFailuresLeaveNothing(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(w http.ResponseWriter, name string, body []byte) bool
		want   string
	}{
		{"checksum", func(w http.ResponseWriter, name string, body []byte) bool {
			b := append([]byte{}, body...)
			b[len(b)/2] ^= 0xff
			w.Write(b)
			return true
		}, "SHA-256 mismatch"},
		{"server error", func(w http.ResponseWriter, name string, body []byte) bool {
			http.Error(w, "boom", http.StatusInternalServerError)
			return true
		}, "500 Internal Server Error"},
		{"truncated", func(w http.ResponseWriter, name string, body []byte) bool {
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.Write(body[:len(body)/2])
			return true
		}, "unexpected EOF"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := mnistServer(t, tc.tamper)
			defer srv.Close()
			dir := t.TempDir()
			err := Fetch(context.Background(), "mnist", dir, FetchOptions{Client: srv.Client(), Mirror: srv.URL})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), srv.URL+"/train-images-idx3-ubyte.gz") {
				t.Fatalf("error %v, want %q and the URL", err, tc.want)
			}
			if got := leftovers(t, dir); len(got) != 0 {
				t.Fatalf("left behind %v", got)
			}
		})
	}
}

func TestFetchOffline(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	dir := filepath.Join(t.TempDir(), "data")
	err := Fetch(context.Background(), "fashion-mnist", dir, FetchOptions{Mirror: url})
	if err == nil || !strings.Contains(err.Error(), url+"/train-images-idx3-ubyte.gz") || !strings.Contains(err.Error(), "offline?") {
		t.Fatalf("offline error %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("failed fetch left the folder %s behind: %v", dir, err)
	}
	if _, err := RemoteFor("halfspace"); err == nil {
		t.Fatal("halfspace is fetchable?")
	}
}

func TestUnpackCIFAR(t *testing.T) {
	const recs = 3
	size := int64(recs * cifarRecord)
	dir := t.TempDir()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	add := func(name string, b []byte) {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg})
		tw.Write(b)
	}
	add("cifar-10-batches-bin/readme.html", []byte("<html>"))
	add("cifar-10-batches-bin/batches.meta.txt", []byte("airplane\n"))
	for i, f := range append(append([]string{}, CIFARTrainFiles...), CIFARTestFile) {
		add("cifar-10-batches-bin/"+f, cifarRecords(recs, i))
	}
	tw.Close()
	zw.Close()
	archive := filepath.Join(dir, "a.tar.gz")
	os.WriteFile(archive, buf.Bytes(), 0o644)
	out := filepath.Join(dir, "cifar10")
	os.MkdirAll(out, 0o755)
	if err := unpackCIFAR(archive, out, size, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "readme.html")); err == nil {
		t.Fatal("unpacked a file it should skip")
	}
	train, test, err := Load("cifar10", Options{Dir: dir})
	if err != nil || train.N != 5*recs || test.N != recs || test.Y[0] != 5 {
		t.Fatalf("load: %v", err)
	}
	// Wrong record count in the archive: refused.
	if err := unpackCIFAR(archive, t.TempDir(), size+cifarRecord, nil); err == nil || !strings.Contains(err.Error(), "data_batch_1.bin has") {
		t.Fatalf("wrong size: %v", err)
	}
	// Verify wants full 10000-record batches.
	_, err = Verify("cifar10", dir)
	if err == nil || !strings.Contains(err.Error(), "6 of 6 files failed") {
		t.Fatalf("verify: %v", err)
	}
}
