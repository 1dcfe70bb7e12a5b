package data

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/plasticity-lab/plastic/internal/atomicfile"
)

// CacheEnv names the environment variable of the decoded-file cache: a
// folder, or "off" for none. Unset, the cache is the user cache folder's
// plastic/idx (e.g. ~/.cache/plastic/idx).
//
// A gzip-compressed IDX file is kept there decompressed after its first
// read: inflating MNIST's 47 MB of training images takes ~0.35 s on one
// core, reading them back ~0.02 s, and every command that loads MNIST or
// Fashion-MNIST pays it (a `rule train` run of a few seconds spends ~10%
// of its time there). An entry is named by the compressed file's absolute
// path, size and modification time, so a replaced file is decoded again;
// it is written atomically (temporary file + rename), read with the same
// checks as any IDX file (header, exact length), and ignored when it fails
// them. The cache is best-effort: when it cannot be written the command
// only pays the inflate.
const CacheEnv = "PLASTIC_CACHE"

// idxCachePath is the cache entry of the compressed file path ("" when
// the cache is off or has no folder).
func idxCachePath(path string, st os.FileInfo) string {
	dir := os.Getenv(CacheEnv)
	switch dir {
	case "off":
		return ""
	case "":
		d, err := os.UserCacheDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(d, "plastic", "idx")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return ""
	}
	h := sha256.Sum256(fmt.Appendf(nil, "%s\x00%d\x00%d", abs, st.Size(), st.ModTime().UnixNano()))
	return filepath.Join(dir, fmt.Sprintf("%s-%x", strings.TrimSuffix(filepath.Base(path), ".gz"), h[:8]))
}

// readIDXCache reads a cache entry (nil when there is none or it fails
// the IDX checks).
func readIDXCache(entry string) *IDX {
	f, err := os.Open(entry)
	if err != nil {
		return nil
	}
	defer f.Close()
	idx, err := ReadIDX(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return nil
	}
	return idx
}

// writeIDXCache stores idx as an uncompressed IDX file at entry, ignoring
// failures (the cache is best-effort).
func writeIDXCache(entry string, idx *IDX) {
	b := make([]byte, 4+4*len(idx.Dims), 4+4*len(idx.Dims)+len(idx.Data))
	b[2], b[3] = 0x08, byte(len(idx.Dims))
	for i, d := range idx.Dims {
		binary.BigEndian.PutUint32(b[4+4*i:], uint32(d))
	}
	if os.MkdirAll(filepath.Dir(entry), 0o755) == nil {
		_ = atomicfile.Write(entry, append(b, idx.Data...))
	}
}
