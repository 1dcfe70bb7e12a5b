package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/plasticity-lab/plastic/cuda"
	"github.com/plasticity-lab/plastic/run"
)

// runDevice opens the device the run computes on: nil (and a no-op close)
// for the CPU, else the GPU (or the emulator standing in for one) that
// --device resolved to. A run resumed on another device than the one its
// manifest records gets both recorded ("cpu,cuda"), so the manifest never
// claims one device for work another did.
func runDevice(c *cli.Context, r *run.Run) (*cuda.Context, func(), error) {
	dev, err := deviceOf(c)
	if err != nil {
		return nil, nil, err
	}
	if r.Manifest.Device != "" && r.Manifest.Device != string(dev) {
		r.Manifest.Device += "," + string(dev)
		if err := r.WriteManifest(); err != nil {
			return nil, nil, err
		}
	}
	if !dev.Kernels() {
		return nil, func() {}, nil
	}
	ctx, err := cuda.OpenDevice()
	if err != nil {
		return nil, nil, fmt.Errorf("--device: opening %s: %w", dev, err)
	}
	r.Summary["device_name"] = ctx.Info.Name
	return ctx, func() { ctx.Close() }, nil
}
