package data

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestMain keeps the decoded-file cache of this package's tests in a
// temporary folder (the tests read many throw-away gzip files).
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "plastic-idx-cache-")
	if err != nil {
		panic(err)
	}
	os.Setenv(CacheEnv, dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// TestIDXCache checks the decoded-file cache: a compressed file is read
// from its entry after the first read; a replaced file (new content, size
// and time) is decoded again; a damaged entry is ignored and rewritten;
// "off" writes nothing.
func TestIDXCache(t *testing.T) {
	cache := t.TempDir()
	t.Setenv(CacheEnv, cache)
	p := filepath.Join(t.TempDir(), "x-idx1-ubyte.gz")
	write := func(data []byte, mtime time.Time) {
		if err := os.WriteFile(p, gz(encodeIDX([]int{len(data)}, data)), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	read := func(want []byte) {
		t.Helper()
		idx, err := ReadIDXFile(p)
		if err != nil || !bytes.Equal(idx.Data, want) {
			t.Fatalf("read %v (%v), want %v", idx, err, want)
		}
	}
	entries := func() []string {
		m, _ := filepath.Glob(filepath.Join(cache, "x-idx1-ubyte-*"))
		return m
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	write([]byte{1, 2, 3}, t0)
	read([]byte{1, 2, 3})
	e := entries()
	if len(e) != 1 {
		t.Fatalf("cache entries %v after the first read, want one", e)
	}
	// The entry is what the next read returns: change it behind the
	// cache's back (same header and length) and the change shows.
	if err := os.WriteFile(e[0], encodeIDX([]int{3}, []byte{4, 5, 6}), 0o644); err != nil {
		t.Fatal(err)
	}
	read([]byte{4, 5, 6})
	// A replaced file gets its own entry.
	write([]byte{7, 8, 9, 10}, t0.Add(time.Second))
	read([]byte{7, 8, 9, 10})
	if len(entries()) != 2 {
		t.Fatalf("cache entries %v, want two", entries())
	}
	// A damaged entry (truncated) is decoded from the file again and rewritten.
	for _, f := range entries() {
		if err := os.Truncate(f, 6); err != nil {
			t.Fatal(err)
		}
	}
	read([]byte{7, 8, 9, 10})
	fresh := 0
	for _, f := range entries() {
		if st, err := os.Stat(f); err == nil && st.Size() == 4+4+4 {
			fresh++
		}
	}
	if fresh != 1 {
		t.Errorf("%d entries rewritten, want the read one", fresh)
	}
	// Off: the file is decoded and nothing is written.
	t.Setenv(CacheEnv, "off")
	write([]byte{1}, t0.Add(2*time.Second))
	read([]byte{1})
	if m, _ := filepath.Glob(filepath.Join(cache, "*")); len(m) != 2 {
		t.Errorf("cache off: the cache holds %v, want the two entries of before", m)
	}
}
