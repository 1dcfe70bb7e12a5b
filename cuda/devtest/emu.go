//go:build !gpu

package devtest

import "github.com/plasticity-lab/plastic/cuda"

// Emulated is true when the test device is the SIMT emulator.
const Emulated = true

func open() (*cuda.Context, error) { return cuda.OpenEmulator() }
