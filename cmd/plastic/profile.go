package main

import (
	"fmt"
	"runtime/pprof"

	"github.com/plasticity-lab/plastic/internal/atomicfile"
	"github.com/urfave/cli/v2"
)

// flagCPUProfile is the global --cpuprofile flag: a CPU profile of the whole
// command (every training command: train, rule train, rule learn, gd train,
// paper *, attack, demo), for `go tool pprof plastic FILE`.
const flagCPUProfile = "cpuprofile"

// metaProfile is the App.Metadata key of the running CPU profile.
const metaProfile = "plastic.cpuprofile"

// cpuProfile is a CPU profile being written to a temporary file next to
// its target; stop renames it over the target, so the file a user finds is
// always a whole profile.
type cpuProfile struct {
	tmp  *atomicfile.File
	path string
}

// startCPUProfile starts profiling when --cpuprofile is set. It fails (before
// any work) when the file's folder does not exist or cannot be written.
func startCPUProfile(c *cli.Context) error {
	path := c.String(flagCPUProfile)
	if path == "" {
		return nil
	}
	tmp, err := atomicfile.Create(path)
	if err != nil {
		return fmt.Errorf("--%s %s: %w", flagCPUProfile, path, err)
	}
	if err := pprof.StartCPUProfile(tmp); err != nil {
		tmp.Abort()
		return fmt.Errorf("--%s %s: %w", flagCPUProfile, path, err)
	}
	c.App.Metadata = ensureMeta(c.App.Metadata)
	c.App.Metadata[metaProfile] = &cpuProfile{tmp: tmp, path: path}
	return nil
}

// stopCPUProfile is the app's After: it ends the profile (also after a
// failed or interrupted command) and moves it into place.
func stopCPUProfile(c *cli.Context) error {
	p, ok := c.App.Metadata[metaProfile].(*cpuProfile)
	if !ok {
		return nil
	}
	delete(c.App.Metadata, metaProfile)
	pprof.StopCPUProfile()
	if err := p.tmp.Commit(); err != nil {
		return fmt.Errorf("--%s %s: %w", flagCPUProfile, p.path, err)
	}
	return nil
}
