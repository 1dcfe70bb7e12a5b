//go:build !unix

package run

import "os"

// Without flock(2) folders are not locked: one writer per folder is then
// the user's business.
func tryLock(*os.File) (bool, error)       { return true, nil }
func tryLockShared(*os.File) (bool, error) { return true, nil }
func unlock(*os.File) error                { return nil }
