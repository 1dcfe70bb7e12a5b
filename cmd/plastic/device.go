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

// cpuOnly is for a command with a device path whose options of this run
// leave it none (attack without --rules, a paper experiment run as Slurm
// units): --device cuda is refused with why, and a device that --device
// auto found is not used (the run records the CPU). Call it before the
// run starts.
func cpuOnly(c *cli.Context, why string) error {
	rd, err := resolvedOf(c)
	if err != nil || !rd.dev.Kernels() {
		return err
	}
	name, _ := c.App.Metadata[metaCommand].(string)
	if c.String(flagDevice) == "cuda" {
		return fmt.Errorf("plastic %s: %s, so --device cuda is refused (use --device cpu or auto)", name, why)
	}
	c.App.Metadata = ensureMeta(c.App.Metadata)
	c.App.Metadata[metaDevice] = resolvedDevice{cuda.CPU, fmt.Sprintf("device: cpu (plastic %s: %s; --device auto found %s)", name, why, rd.dev)}
	return nil
}
