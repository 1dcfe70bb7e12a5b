package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/plasticity-lab/plastic/cuda"
	"github.com/plasticity-lab/plastic/run"
	"github.com/plasticity-lab/plastic/train"
)

// flagName is the optional run id flag that commands which write a run add
// with runFlags().
const flagName = "name"

// runFlags are the flags of every command that writes a run folder.
func runFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: flagName, Usage: "run id, the folder under --out (default: COMMAND-UTCTIME-sSEED-RANDOM)"},
	}
}

// metaRun is the App.Metadata key of the run started by the current
// command; the command wrapper finishes it when the Action returns.
const metaRun = "plastic.run"

// metaIndices holds the example indices of the subsets a command drew
// (file name -> indices); finishRun writes them into the run folder so a
// run can be reproduced exactly.
const metaIndices = "plastic.indices"

// recordIndices keeps the indices of a drawn subset for the run folder.
func recordIndices(c *cli.Context, file string, idx []int) {
	c.App.Metadata = ensureMeta(c.App.Metadata)
	ix, _ := c.App.Metadata[metaIndices].(map[string][]int)
	if ix == nil {
		ix = map[string][]int{}
		c.App.Metadata[metaIndices] = ix
	}
	ix[file] = idx
}

type activeRun struct {
	r  *run.Run
	in *interrupt
}

// startRun opens the run folder of a command that trains or evaluates:
// --out/<run-id>/ with manifest.json (status running; command line, every
// flag of the command and the globals with its final value, seed, Go
// version, git commit, device). It resolves --device (printing the choice
// once, unless --quiet) and returns a context cancelled by Ctrl-C or
// SIGTERM (a second Ctrl-C kills the process) and a stop function to defer.
//
// Commands hand r to train.Run as a hook (metrics.jsonl gets a line per
// epoch); commands that evaluate without train.Run call r.AppendMetrics.
// When the command's Action returns, the run is finished from its error:
// done, interrupted (Ctrl-C) or failed, and summary.json written with
// r.Summary as the Action left it.
func startRun(c *cli.Context, command string) (r *run.Run, ctx context.Context, stop func(), err error) {
	dev, err := deviceOf(c)
	if err != nil {
		return nil, nil, nil, err
	}
	seed := c.Int64(flagSeed)
	id := c.String(flagName)
	if id == "" {
		id = run.NewID(command, time.Now(), seed)
	}
	r, err = run.Create(c.String(flagOut), run.Manifest{
		ID: id, Command: command, Args: os.Args, Flags: resolvedFlags(c), Seed: seed, Device: string(dev),
	})
	if errors.Is(err, os.ErrExist) {
		return nil, nil, nil, fmt.Errorf("%w: --name", err)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	in := interruptible()
	c.App.Metadata = ensureMeta(c.App.Metadata)
	c.App.Metadata[metaRun] = &activeRun{r, in}
	if !c.Bool(flagQuiet) {
		slog.Info("run started", "dir", r.Dir)
	}
	return r, in.ctx, in.stop, nil
}

// attachRun makes r (reopened by the caller, after its checks) the run of
// the current command, with the same interrupt handling and finishing as
// startRun. The caller restarts train.Run where the run stopped.
func attachRun(c *cli.Context, r *run.Run) (ctx context.Context, stop func()) {
	in := interruptible()
	c.App.Metadata = ensureMeta(c.App.Metadata)
	c.App.Metadata[metaRun] = &activeRun{r, in}
	return in.ctx, in.stop
}

// interrupt is the Ctrl-C handling of a run.
type interrupt struct {
	ctx         context.Context
	stopSignals context.CancelFunc
	mu          sync.Mutex
	stopped     bool
	signalled   bool
	term        chan os.Signal // SIGTERMs caught while saving
}

// interruptible returns a context cancelled by the first SIGINT or
// SIGTERM. After it, a second Ctrl-C quits at once (SIGINT gets its
// default behaviour again), while further SIGTERMs are caught and ignored
// so the run can save what it has: a process manager (Slurm, a parent
// dying, kill) may send several, and SIGKILL is there to force.
func interruptible() *interrupt {
	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	in := &interrupt{ctx: ctx, stopSignals: stopSignals}
	go func() {
		<-ctx.Done()
		in.mu.Lock()
		defer in.mu.Unlock()
		if in.stopped {
			return
		}
		in.term = make(chan os.Signal, 8)
		signal.Notify(in.term, syscall.SIGTERM)
		stopSignals()
		slog.Warn("interrupted: saving what the run has (Ctrl-C again quits at once)")
	}()
	return in
}

// stop stops listening for signals (and cancels the context).
func (in *interrupt) stop() {
	in.mu.Lock()
	if !in.stopped {
		in.stopped = true
		in.signalled = in.ctx.Err() != nil
	}
	if in.term != nil {
		signal.Stop(in.term)
		in.term = nil
	}
	in.mu.Unlock()
	in.stopSignals()
}

// wasSignalled reports whether a signal, not stop, ended the context.
func (in *interrupt) wasSignalled() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.stopped {
		return in.signalled
	}
	return in.ctx.Err() != nil
}

var deviceOnce sync.Once

// deviceOf resolves --device (already done by applyConfigs when the app
// ran through it) into the device the command computes on, and prints the
// choice once per process unless --quiet. A device resolved for a command
// without a device path (auto on a GPU machine) gives the CPU: the run
// records where its work actually runs.
func deviceOf(c *cli.Context) (cuda.Device, error) {
	rd, err := resolvedOf(c)
	if err != nil {
		return "", err
	}
	if rd.dev.Kernels() {
		name, _ := c.App.Metadata[metaCommand].(string)
		if !deviceCommands[name] {
			if c.String(flagDevice) == "cuda" {
				return "", deviceRefusal(name)
			}
			rd = resolvedDevice{cuda.CPU, fmt.Sprintf("device: cpu (plastic %s computes on the CPU only; --device auto found %s)", name, rd.dev)}
		}
	}
	if !c.Bool(flagQuiet) {
		deviceOnce.Do(func() { slog.Info(rd.note) })
	}
	return rd.dev, nil
}

// resolvedOf is --device as applyConfigs resolved it (resolved here when
// the app did not run through it).
func resolvedOf(c *cli.Context) (resolvedDevice, error) {
	if v, ok := c.App.Metadata[metaDevice].(resolvedDevice); ok {
		return v, nil
	}
	dev, note, err := cuda.Resolve(c.String(flagDevice))
	if err != nil {
		return resolvedDevice{}, nameFlag(err, c.App.Flags)
	}
	return resolvedDevice{dev, note}, nil
}

// finishRun ends the run the Action started, if any, from its error.
func finishRun(c *cli.Context, err error) error {
	ar, ok := c.App.Metadata[metaRun].(*activeRun)
	if !ok {
		return err
	}
	delete(c.App.Metadata, metaRun)
	signalled := ar.in.wasSignalled()
	if err != nil && !signalled && ar.r.Untouched() {
		// Refused before it began (bad flags, missing data): no folder.
		ar.in.stop()
		delete(c.App.Metadata, metaIndices)
		if derr := ar.r.Discard(); derr != nil {
			slog.Error("could not remove the folder of the refused run", "dir", ar.r.Dir, "err", derr)
		}
		return err
	}
	if ix, ok := c.App.Metadata[metaIndices].(map[string][]int); ok {
		for name, idx := range ix {
			if werr := ar.r.WriteJSON(name, idx); werr != nil && err == nil {
				err = werr
			}
		}
		delete(c.App.Metadata, metaIndices)
	}
	ferr := err
	ar.in.stop() // the run is over: stop listening for Ctrl-C
	if signalled && (err == nil || !errors.Is(err, train.ErrInterrupted)) {
		if err == nil {
			ferr = train.ErrInterrupted
		} else {
			ferr = fmt.Errorf("%w: %v", train.ErrInterrupted, err)
		}
	}
	if werr := ar.r.Finish(ferr); werr != nil {
		slog.Error("could not finish the run record", "dir", ar.r.Dir, "err", werr)
		if err == nil {
			err = werr
		}
	}
	if !c.Bool(flagQuiet) {
		slog.Info("run "+ar.r.Manifest.Status, "dir", ar.r.Dir)
	}
	return err
}

// resolvedFlags maps every flag of the command and its parents (the
// globals included) to its final value, for the manifest.
func resolvedFlags(c *cli.Context) map[string]any {
	out := map[string]any{}
	lineage := c.Lineage()
	// Parents first, so a command's own flag wins over a global of the
	// same name.
	for i := len(lineage) - 1; i >= 0; i-- {
		ctx := lineage[i]
		var flags []cli.Flag
		if ctx.Command != nil {
			flags = ctx.Command.Flags
		} else if ctx.App != nil {
			flags = ctx.App.Flags
		}
		for _, f := range flags {
			name := f.Names()[0]
			if name == "help" {
				continue
			}
			out[name] = flagValue(ctx.Value(name))
		}
	}
	return out
}

// flagValue is a flag's value as the manifest records it. Slice flags'
// Get gives the slice type by value (cli.StringSlice), which JSON would
// write as {}: their elements are taken out.
func flagValue(v any) any {
	switch x := v.(type) {
	case *cli.StringSlice:
		return x.Value()
	case cli.StringSlice:
		return x.Value()
	case *cli.IntSlice:
		return x.Value()
	case cli.IntSlice:
		return x.Value()
	case *cli.Int64Slice:
		return x.Value()
	case cli.Int64Slice:
		return x.Value()
	case *cli.Float64Slice:
		return x.Value()
	case cli.Float64Slice:
		return x.Value()
	case time.Duration:
		return x.String()
	}
	return v
}
