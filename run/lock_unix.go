//go:build unix

package run

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// tryLock takes an exclusive flock on f without waiting; false when
// another open file holds it.
func tryLock(f *os.File) (bool, error) { return flock(f, unix.LOCK_EX|unix.LOCK_NB) }

// tryLockShared takes a shared flock on f without waiting (to test whether
// anyone holds it exclusively).
func tryLockShared(f *os.File) (bool, error) { return flock(f, unix.LOCK_SH|unix.LOCK_NB) }

func flock(f *os.File, how int) (bool, error) {
	for {
		err := unix.Flock(int(f.Fd()), how)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EWOULDBLOCK):
			return false, nil
		}
		return false, err
	}
}

func unlock(f *os.File) error { return unix.Flock(int(f.Fd()), unix.LOCK_UN) }
