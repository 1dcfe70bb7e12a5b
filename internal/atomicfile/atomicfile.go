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
func Write(path string, data []byte) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Chmod(0o644); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, derr := os.Open(filepath.Dir(path)); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
