package main

import "syscall"

// cellProcAttr: a sweep's cell runs in its own process group (a Ctrl-C at
// the terminal reaches only the sweep, which passes one SIGINT on) and gets
// SIGTERM when the sweep's process dies, however it dies.
func cellProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
