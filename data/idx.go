package data

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
)

// IDX is one decoded IDX file (the format of MNIST and Fashion-MNIST):
// unsigned bytes in row-major order with the given dimensions.
type IDX struct {
	Dims []int
	Data []byte
}

// maxIDXBytes bounds the payload a header may announce (MNIST's largest
// file holds 47 MB), so a corrupt header cannot make the reader allocate
// gigabytes.
const maxIDXBytes = 1 << 30

// ReadIDX decodes an uncompressed IDX stream: the magic number (two zero
// bytes, the element type 0x08 for unsigned bytes, the number of
// dimensions), the dimensions as big-endian uint32 and exactly as many data
// bytes as their product. It fails on any other type, a zero dimension, a
// short stream and trailing bytes.
func ReadIDX(r io.Reader) (*IDX, error) {
	var magic [4]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil {
		return nil, fmt.Errorf("reading the IDX magic number: %w", eofAsTruncated(err))
	}
	if magic[0] != 0 || magic[1] != 0 {
		return nil, fmt.Errorf("not an IDX file: magic number %02x%02x%02x%02x does not start with 0000", magic[0], magic[1], magic[2], magic[3])
	}
	if magic[2] != 0x08 {
		return nil, fmt.Errorf("IDX element type 0x%02x not supported (want 0x08, unsigned bytes)", magic[2])
	}
	nd := int(magic[3])
	if nd < 1 || nd > 4 {
		return nil, fmt.Errorf("IDX file with %d dimensions (want 1 to 4)", nd)
	}
	hdr := make([]byte, 4*nd)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, fmt.Errorf("reading %d IDX dimensions: %w", nd, eofAsTruncated(err))
	}
	dims := make([]int, nd)
	total := int64(1)
	for i := range dims {
		d := binary.BigEndian.Uint32(hdr[4*i:])
		if d == 0 {
			return nil, fmt.Errorf("IDX dimension %d is zero", i)
		}
		dims[i] = int(d)
		total *= int64(d)
		if total > maxIDXBytes {
			return nil, fmt.Errorf("IDX dimensions %v announce more than %d bytes", dims[:i+1], maxIDXBytes)
		}
	}
	// Read into a buffer sized from the header, but at most idxChunk bytes
	// at a time, so that a lying header costs little before the data run
	// out; then one byte more, to detect trailing data.
	data := make([]byte, min(total, idxChunk))
	got, err := io.ReadFull(r, data)
	for err == nil && int64(len(data)) < total {
		old := len(data)
		data = append(data, make([]byte, min(total-int64(old), int64(old)))...)
		var n int
		n, err = io.ReadFull(r, data[old:])
		got = old + n
	}
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return nil, fmt.Errorf("truncated IDX data: dimensions %v need %d bytes, file has %d", dims, total, got)
	case err != nil:
		return nil, fmt.Errorf("reading IDX data: %w", err)
	}
	var one [1]byte
	switch n, err := io.ReadFull(r, one[:]); {
	case n > 0:
		return nil, fmt.Errorf("IDX file longer than its dimensions %v say (%d bytes): trailing data", dims, total)
	case err != nil && err != io.EOF:
		return nil, fmt.Errorf("reading IDX data: %w", err)
	}
	return &IDX{Dims: dims, Data: data}, nil
}

// idxChunk is the most ReadIDX allocates ahead of the data it has read.
const idxChunk = 1 << 26

func eofAsTruncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("file truncated")
	}
	return err
}

// ReadIDXFile reads an IDX file, gzip-compressed (recognised by its magic
// bytes, whatever the name) or raw. Errors name the file. A compressed
// file is read from the decoded-file cache when it is there (CacheEnv).
func ReadIDXFile(path string) (*IDX, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<16)
	var r io.Reader = br
	entry := ""
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		if st, err := f.Stat(); err == nil {
			if entry = idxCachePath(path, st); entry != "" {
				if idx := readIDXCache(entry); idx != nil {
					return idx, nil
				}
			}
		}
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	idx, err := ReadIDX(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if entry != "" {
		writeIDXCache(entry, idx)
	}
	return idx, nil
}

// IDXSet builds a labelled set from an images IDX (n x rows x cols) and a
// labels IDX (n) with labels below classes; pixels are scaled by 1/255.
// The file names are used in errors.
func IDXSet(name string, images, labels *IDX, imagesPath, labelsPath string, classes int) (*Set, error) {
	if len(images.Dims) != 3 {
		return nil, fmt.Errorf("%s: images need 3 dimensions (n, rows, cols), file has %v", imagesPath, images.Dims)
	}
	if len(labels.Dims) != 1 {
		return nil, fmt.Errorf("%s: labels need 1 dimension, file has %v", labelsPath, labels.Dims)
	}
	n := images.Dims[0]
	if labels.Dims[0] != n {
		return nil, fmt.Errorf("%s has %d images but %s has %d labels", imagesPath, n, labelsPath, labels.Dims[0])
	}
	rows, cols := images.Dims[1], images.Dims[2]
	dim := rows * cols
	s := &Set{Name: name, X: make([]float32, n*dim), Y: make([]int, n), N: n, Dim: dim, Classes: classes, Shape: []int{1, rows, cols}}
	scaleBytes(s.X[:len(images.Data)], images.Data)
	for i, b := range labels.Data {
		if int(b) >= classes {
			return nil, fmt.Errorf("%s: label %d of example %d is not below %d classes", labelsPath, b, i, classes)
		}
		s.Y[i] = int(b)
	}
	return s, nil
}

// scaleBytes sets x[i] = byteScale[b[i]], in parallel over the CPUs (the
// first write of MNIST's 188 MB of float32 pixels is page faults more than
// arithmetic, and those run in parallel too).
func scaleBytes(x []float32, b []byte) {
	const chunk = 1 << 20
	parts := min(runtime.GOMAXPROCS(0), (len(b)+chunk-1)/chunk)
	if parts <= 1 {
		scaleRange(x, b)
		return
	}
	var wg sync.WaitGroup
	per := (len(b) + parts - 1) / parts
	for lo := 0; lo < len(b); lo += per {
		hi := min(lo+per, len(b))
		wg.Go(func() { scaleRange(x[lo:hi], b[lo:hi]) })
	}
	wg.Wait()
}

func scaleRange(x []float32, b []byte) {
	x = x[:len(b)]
	for i, v := range b {
		x[i] = byteScale[v]
	}
}

// byteScale[b] is float32(b) / 255.
var byteScale = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i) / 255
	}
	return t
}()

// ReadIDXPair reads an images file and a labels file into a set.
func ReadIDXPair(name, imagesPath, labelsPath string, classes int) (*Set, error) {
	im, err := ReadIDXFile(imagesPath)
	if err != nil {
		return nil, err
	}
	lb, err := ReadIDXFile(labelsPath)
	if err != nil {
		return nil, err
	}
	return IDXSet(name, im, lb, imagesPath, labelsPath, classes)
}
