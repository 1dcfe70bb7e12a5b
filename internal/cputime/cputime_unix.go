//go:build unix

package cputime

import "golang.org/x/sys/unix"

// Process returns the CPU seconds this process has used (all threads), 0
// where the clock cannot be read.
func Process() float64 {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts) != nil {
		return 0
	}
	return float64(ts.Sec) + float64(ts.Nsec)*1e-9
}
