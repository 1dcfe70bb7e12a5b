// Package atomicfile owns writing a file so that a reader sees either the
// old file or the new one, never half of one: the data goes to a temporary
// file in the same folder, is synced, and is renamed over the target; the
// folder is synced so the rename itself survives a crash. Run records,
// checkpoints, network and rule files, tables and figures all write this way.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write writes data to path atomically (mode 0644).
func Write(path string, data []byte) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// File is a file being written under a temporary name in its target's
// folder: write to it, then Commit moves it over the target, or Abort
// removes it. Either leaves the target whole (old or new).
type File struct {
	*os.File
	path string
	done bool
}

// Create starts writing path atomically.
func Create(path string) (*File, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, err
	}
	return &File{File: tmp, path: path}, nil
}

// Commit syncs the file, gives it mode 0644 and renames it over the target
// (syncing the folder); on failure the temporary file is removed and the
// target is untouched.
func (f *File) Commit() (err error) {
	if f.done {
		return os.ErrClosed
	}
	f.done = true
	defer func() {
		if err != nil {
			f.File.Close()
			os.Remove(f.Name())
		}
	}()
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.File.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), f.path); err != nil {
		return err
	}
	if d, derr := os.Open(filepath.Dir(f.path)); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Abort closes and removes the temporary file (nothing after Commit).
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.File.Close()
	os.Remove(f.Name())
}
