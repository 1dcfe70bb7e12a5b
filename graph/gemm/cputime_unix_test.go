//go:build unix

package gemm

import "golang.org/x/sys/unix"

// processCPU returns the CPU seconds this process has used (all threads).
func processCPU() float64 {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts) != nil {
		return 0
	}
	return float64(ts.Sec) + float64(ts.Nsec)*1e-9
}
