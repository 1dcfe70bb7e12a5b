package run

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// LockFile is the lock file of a run folder or a sweep folder. Whoever
// writes into the folder holds an exclusive flock(2) on it; the kernel
// releases it when the process ends, however it ends, so a crash never
// leaves a stale lock. The file holds the holder's pid, command line and
// start time, for the message of whoever is refused.
const LockFile = ".lock"

// Holder describes the process holding a folder's lock.
type Holder struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host,omitempty"`
	Command string    `json:"command"`
	Start   time.Time `json:"start"`
}

func (h Holder) String() string {
	s := fmt.Sprintf("pid %d", h.PID)
	if h.Host != "" {
		s += " on " + h.Host
	}
	if h.Command != "" {
		s += fmt.Sprintf(" (%s)", h.Command)
	}
	if !h.Start.IsZero() {
		s += ", started " + h.Start.Local().Format("2006-01-02 15:04:05")
	}
	return s
}

// ErrInUse is wrapped by the error of LockDir when another process holds
// the folder.
var ErrInUse = errors.New("in use")

// InUseError says who holds a folder.
type InUseError struct {
	Dir    string
	Holder Holder
}

func (e *InUseError) Error() string {
	return fmt.Sprintf("%s is in use by %s: one writer per folder; wait for it to end or stop it", e.Dir, e.Holder)
}

func (e *InUseError) Unwrap() error { return ErrInUse }

// Lock is a held folder lock.
type Lock struct {
	f   *os.File
	dir string
}

// self describes this process for the lock file.
func self() Holder {
	host, _ := os.Hostname()
	cmd := strings.Join(os.Args, " ")
	if len(cmd) > 300 {
		cmd = cmd[:300] + "..."
	}
	return Holder{PID: os.Getpid(), Host: host, Command: cmd, Start: processStart}
}

var processStart = time.Now().UTC()

// LockDir takes the lock of folder dir (which must exist) without
// waiting: when another process holds it, the error is an *InUseError
// naming that process. The lock is released by Unlock or when the process
// ends.
func LockDir(dir string) (*Lock, error) {
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	// A status probe (Held) holds the lock for microseconds: try a few
	// times before calling the folder in use.
	ok, err := tryLock(f)
	for i := 0; i < 5 && err == nil && !ok; i++ {
		time.Sleep(20 * time.Millisecond)
		ok, err = tryLock(f)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	if !ok {
		h := readHolder(f)
		f.Close()
		return nil, &InUseError{Dir: dir, Holder: h}
	}
	b, _ := json.Marshal(self())
	if err := f.Truncate(0); err == nil {
		f.WriteAt(append(b, '\n'), 0)
	}
	return &Lock{f: f, dir: dir}, nil
}

// Unlock releases the lock (a nil Lock, or one already released, is fine).
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := unlock(l.f)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}

// Held reports who holds folder dir's lock, if anyone (without taking it).
func Held(dir string) (Holder, bool) {
	f, err := os.Open(filepath.Join(dir, LockFile))
	if err != nil {
		return Holder{}, false
	}
	defer f.Close()
	ok, err := tryLockShared(f)
	if err != nil || ok {
		if ok {
			unlock(f)
		}
		return Holder{}, false
	}
	return readHolder(f), true
}

func readHolder(f *os.File) Holder {
	var h Holder
	b := make([]byte, 4096)
	n, _ := f.ReadAt(b, 0)
	if err := json.Unmarshal(b[:n], &h); err != nil {
		return Holder{Command: "unknown process"}
	}
	return h
}
