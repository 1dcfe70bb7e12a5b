//go:build !linux

package main

import "syscall"

// cellProcAttr: a sweep's cell runs in its own process group. Without
// Linux's parent-death signal a cell outlives a killed sweep; the lock of
// its run folder keeps the next sweep from mixing with it.
func cellProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
