// Package cputime reads the CPU time of the process, for the benchmarks
// that report work per CPU-second (a figure that holds on a machine shared
// with other jobs, where wall time does not).
package cputime
