package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/urfave/cli/v2"

	"github.com/plasticity-lab/plastic/cuda"
	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/internal/param"
)

// Global flags, shared by every command. They go before the command name
// (`plastic --seed 3 data info ...`) or into a --config file.
const (
	flagSeed    = "seed"
	flagDevice  = "device"
	flagOut     = "out"
	flagConfig  = "config"
	flagQuiet   = "quiet"
	flagDataDir = "data-dir"
)

// globalFlags are the flags of the app itself.
func globalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.Int64Flag{Name: flagSeed, Value: 1, Usage: "seed of every random choice (same seed, same numbers)"},
		&cli.StringFlag{Name: flagDevice, Value: "auto", Usage: "where to compute: auto, cpu or cuda (cuda needs a binary built with -tags gpu)"},
		&cli.StringFlag{Name: flagOut, Value: "runs", Usage: "results folder; each run writes to `DIR`/<run-id>/"},
		&cli.StringSliceFlag{Name: flagConfig, Usage: "read flags from `FILE` (lines of --flag=value; repeatable, later files win, the command line wins over all)"},
		&cli.BoolFlag{Name: flagQuiet, Aliases: []string{"q"}, Usage: "print no progress or device lines"},
		&cli.StringFlag{Name: flagDataDir, Value: "datasets", Usage: "folder of the data sets (`DIR`/mnist, DIR/fashion-mnist, DIR/cifar10)"},
		&cli.StringFlag{Name: flagCPUProfile, Usage: "write a CPU profile of the whole command to `FILE` (read it with go tool pprof)"},
	}
}

// configEntry is one `--flag=value` line of a config file.
type configEntry struct {
	file  string
	line  int
	name  string
	value string
}

func (e configEntry) errorf(format string, a ...any) error {
	return fmt.Errorf("%s:%d: %s", e.file, e.line, fmt.Sprintf(format, a...))
}

// metaConfig is the App.Metadata key of the entries read by applyConfigs,
// for the command-level part applied in each command's Before.
const metaConfig = "plastic.config"

// metaDevice holds the resolved device (a resolvedDevice) so that commands
// do not probe the GPU twice.
const metaDevice = "plastic.device"

type resolvedDevice struct {
	dev  cuda.Device
	note string
}

// metaCommand holds the path of the command being run ("train",
// "rule train", "paper fig3").
const metaCommand = "plastic.command"

// deviceCommands are the commands whose work runs on the device (a GPU, or
// the emulator standing in for one) when --device resolves to it. Every
// other command computes on the CPU only: --device cuda refuses it with an
// error naming it, and auto records the CPU in its manifest.
var deviceCommands = map[string]bool{
	"train": true, // MLP, CNN, ResNet-18 with every optimizer (classify's device backend)
	"sweep": true, // a grid of train runs, each on --device
	// every option of the CPU engine; --repeats networks in one device computation
	"rule train": true,
	// meta-learning's steps (inner training, loss, rule gradient); the
	// per-epoch evaluation on the CPU
	"rule learn": true,
	// the rule-based re-trainings (rule learning and selection stay on the
	// CPU); not as Slurm units
	"paper fig3": true, "paper table2": true, "paper fig6": true,
	// the network trained with --rules (the attack computes on the CPU)
	"attack": true, "attack examples": true,
}

// deviceRefusal is the error of --device cuda for a command that cannot
// run on the device.
func deviceRefusal(command string) error {
	return fmt.Errorf("plastic %s: this command computes on the CPU only, so --device cuda is refused (use --device cpu or auto; "+
		"commands with a device path: %s)", command, strings.Join(deviceCommandList(), ", "))
}

func deviceCommandList() []string {
	var l []string
	for c := range deviceCommands {
		l = append(l, c)
	}
	if len(l) == 0 {
		return []string{"none yet"}
	}
	sort.Strings(l)
	return l
}

// flagValidators check values beyond their type, for both the command line
// and config files.
var flagValidators = map[string]func(string) error{
	flagDevice: func(v string) error {
		switch v {
		case "auto", "cpu", "cuda":
			return nil
		}
		return fmt.Errorf("--device=%q: want auto, cpu or cuda", v)
	},
}

// applyConfigs is the app's Before: it reads the --config files in order,
// checks every line against the global flags and the flags of the command
// being run, sets the global flags that the command line did not set, and
// arranges for the command's own flags to be set in the command's context
// before its Before and Action run. It then validates --device.
func applyConfigs(c *cli.Context) error {
	var entries []configEntry
	for _, file := range c.StringSlice(flagConfig) {
		es, err := readConfigFile(file)
		if err != nil {
			return err
		}
		entries = append(entries, es...)
	}
	path := commandPath(c.App.Commands, c.Args().Slice())
	defined := map[string]cli.Flag{}
	for _, f := range c.App.Flags {
		for _, n := range f.Names() {
			defined[n] = f
		}
	}
	for _, cmd := range path {
		for _, f := range cmd.Flags {
			for _, n := range f.Names() {
				defined[n] = f
			}
		}
	}
	where := "plastic"
	for _, cmd := range path {
		where += " " + cmd.Name
	}
	if msg := removedFlagIn(c.Args().Slice()); msg != "" {
		return fmt.Errorf("%s", msg)
	}
	for _, e := range entries {
		if msg, ok := removedFlags[e.name]; ok {
			return e.errorf("%s", msg)
		}
		f, ok := defined[e.name]
		if !ok {
			return e.errorf("unknown flag --%s (neither a global flag nor a flag of %q; see %s --help)", e.name, where, where)
		}
		if e.name == flagConfig {
			return e.errorf("--config cannot be used inside a config file")
		}
		if err := checkFlagValue(f, e); err != nil {
			return err
		}
	}
	c.App.Metadata = ensureMeta(c.App.Metadata)
	c.App.Metadata[metaConfig] = entries
	if err := setFromConfig(c, appFlagNames(c.App), entries); err != nil {
		return err
	}
	// A --data-dir the user named is the only place data sets are read
	// from: no silent switch to the GoMNIST module's copy.
	data.ModuleFallback = !c.IsSet(flagDataDir)
	for _, cmd := range c.App.Commands {
		wrapCommand(cmd)
	}
	if err := flagValidators[flagDevice](c.String(flagDevice)); err != nil {
		return err
	}
	// A command that cannot compute on the device refuses --device cuda
	// before anything is resolved or written. (A command with a device
	// path may have subcommands too: plastic attack.)
	name := strings.TrimPrefix(where, "plastic ")
	if len(path) > 0 && (isLeaf(path[len(path)-1]) || deviceCommands[name]) && path[0].Name != "help" {
		c.App.Metadata[metaCommand] = name
		if c.String(flagDevice) == "cuda" && !deviceCommands[name] {
			return deviceRefusal(name)
		}
	}
	dev, note, err := cuda.Resolve(c.String(flagDevice))
	if err != nil {
		return nameFlag(err, c.App.Flags)
	}
	c.App.Metadata[metaDevice] = resolvedDevice{dev, note}
	return nil
}

// isLeaf reports whether cmd does work itself: it has no subcommands but
// urfave's own help (which a command that ran once in the process gets).
func isLeaf(cmd *cli.Command) bool {
	for _, sub := range cmd.Subcommands {
		if sub.Name != "help" {
			return false
		}
	}
	return true
}

func ensureMeta(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func appFlagNames(app *cli.App) map[string]bool {
	names := map[string]bool{}
	for _, f := range app.Flags {
		for _, n := range f.Names() {
			names[n] = true
		}
	}
	return names
}

// readConfigFile parses a file of `--flag=value` lines (`--flag` alone for
// a boolean), `#` comment lines and blank lines.
func readConfigFile(file string) ([]configEntry, error) {
	fh, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("--config: %w", err)
	}
	defer fh.Close()
	return parseConfig(file, fh)
}

func parseConfig(file string, r io.Reader) ([]configEntry, error) {
	var out []configEntry
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxConfigLine)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		e := configEntry{file: file, line: n}
		if !strings.HasPrefix(line, "--") || len(line) == 2 {
			return nil, e.errorf("want --flag=value, got %s", quoteCut(line))
		}
		body := line[2:]
		name, value, hasValue := strings.Cut(body, "=")
		name = strings.TrimSpace(name)
		if name == "" || strings.ContainsAny(name, " \t") || !utf8.ValidString(name) {
			return nil, e.errorf("want --flag=value, got %s", quoteCut(line))
		}
		e.name = name
		if hasValue {
			e.value = strings.TrimSpace(value)
		} else {
			e.value = "\x00" // marks a bare --flag
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%s:%d: a line longer than %d bytes: not a file of --flag=value lines (a binary file?)", file, n+1, maxConfigLine)
		}
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return out, nil
}

// maxConfigLine is the longest line of a config file.
const maxConfigLine = 64 << 10

// quoteCut quotes a bad config line for an error message: at most 60
// bytes, and saying so when it is not text (a binary file passed as
// --config).
func quoteCut(line string) string {
	binary := !utf8.ValidString(line) || strings.ContainsFunc(line, func(r rune) bool { return r < ' ' && r != '\t' })
	cut := line
	if len(cut) > 60 {
		cut = cut[:60]
	}
	q := fmt.Sprintf("%q", cut)
	if len(cut) < len(line) {
		q += fmt.Sprintf(" (%d more bytes)", len(line)-len(cut))
	}
	if binary {
		q += " (not text: a binary file?)"
	}
	return q
}

// isBoolFlag reports whether f is a flag without a value (--quiet).
func isBoolFlag(f cli.Flag) bool {
	if df, ok := f.(cli.DocGenerationFlag); ok {
		return !df.TakesValue()
	}
	return false
}

// checkFlagValue parses e's value as f would, on a scratch flag set, so a
// bad value fails with the file and line even when the command line sets
// the flag too.
func checkFlagValue(f cli.Flag, e configEntry) error {
	if e.value == "\x00" {
		if !isBoolFlag(f) {
			return e.errorf("flag --%s needs a value (--%s=VALUE)", e.name, e.name)
		}
		return nil
	}
	fs := flag.NewFlagSet("config", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if err := f.Apply(fs); err != nil {
		return e.errorf("--%s: %v", e.name, err)
	}
	if err := fs.Set(e.name, e.value); err != nil {
		return e.errorf("invalid value %q for --%s: %v", e.value, e.name, err)
	}
	if v, ok := flagValidators[e.name]; ok {
		if err := v(e.value); err != nil {
			return e.errorf("%v", err)
		}
	}
	return nil
}

// setFromConfig sets, on c, the flags named in names from entries in file
// order, skipping flags the command line set (checked once, before any file
// value is applied).
func setFromConfig(c *cli.Context, names map[string]bool, entries []configEntry) error {
	fromCmdline := map[string]bool{}
	for n := range names {
		fromCmdline[n] = c.IsSet(n)
	}
	for _, e := range entries {
		if !names[e.name] || fromCmdline[e.name] {
			continue
		}
		v := e.value
		if v == "\x00" {
			v = "true"
		}
		// c.Set sets the flag in the nearest context of the lineage that
		// defines it.
		if err := c.Set(e.name, v); err != nil {
			return e.errorf("--%s=%s: %v", e.name, v, err)
		}
	}
	return nil
}

// wrapCommand makes cmd (and its subcommands) apply the config entries that
// name its own flags before its own Before runs, and finish the run its
// Action started (startRun) with the Action's error. Commands are shared
// by every app built in the process, so the wrapping is done once.
func wrapCommand(cmd *cli.Command) {
	if cmd.Name == "help" {
		return // urfave's own, shared help command
	}
	wrappedMu.Lock()
	done := wrapped[cmd]
	wrapped[cmd] = true
	wrappedMu.Unlock()
	if !done {
		orig := cmd.Before
		cmd.Before = func(cc *cli.Context) error {
			entries, _ := cc.App.Metadata[metaConfig].([]configEntry)
			names := map[string]bool{}
			for _, f := range cc.Command.Flags {
				for _, n := range f.Names() {
					names[n] = true
				}
			}
			if err := setFromConfig(cc, names, entries); err != nil {
				return err
			}
			if orig != nil {
				return orig(cc)
			}
			return nil
		}
		if action := cmd.Action; action != nil {
			cmd.Action = func(cc *cli.Context) error {
				return finishRun(cc, namedByFlag(cc, action(cc)))
			}
		}
	}
	for _, sub := range cmd.Subcommands {
		wrapCommand(sub)
	}
}

// namedByFlag rewrites the message of a library error about a parameter
// (a param.Error: "eps grid ...") to name the flag that sets it
// ("--eps-grid ...") when the command or the app has a flag of that name
// (spaces as dashes); the error still wraps the original.
func namedByFlag(cc *cli.Context, err error) error {
	return nameFlag(err, cc.Command.Flags, cc.App.Flags)
}

// nameFlag is namedByFlag for the flags in flagSets.
func nameFlag(err error, flagSets ...[]cli.Flag) error {
	var pe *param.Error
	if !errors.As(err, &pe) {
		return err
	}
	flag := strings.ReplaceAll(pe.Name, " ", "-")
	known := false
	for _, fs := range flagSets {
		for _, f := range fs {
			known = known || slices.Contains(f.Names(), flag)
		}
	}
	if !known {
		return err
	}
	return flagError{error: err, msg: strings.Replace(err.Error(), pe.Error(), "--"+flag+" "+pe.Err.Error(), 1)}
}

// flagError is an error whose message names a flag where the library named
// the parameter.
type flagError struct {
	error
	msg string
}

func (e flagError) Error() string { return e.msg }
func (e flagError) Unwrap() error { return e.error }

var (
	wrappedMu sync.Mutex
	wrapped   = map[*cli.Command]bool{}
)

// commandPath follows args (the app's arguments after its own flags)
// through the command tree: `data info --dataset x` gives [data, info].
func commandPath(cmds []*cli.Command, args []string) []*cli.Command {
	var path []*cli.Command
	for _, a := range args {
		if a == "--" {
			break
		}
		if strings.HasPrefix(a, "-") {
			continue
		}
		var next *cli.Command
		for _, cmd := range cmds {
			if cmd.HasName(a) {
				next = cmd
			}
		}
		if next == nil {
			if len(path) == 0 {
				break
			}
			continue
		}
		path = append(path, next)
		cmds = next.Subcommands
	}
	return path
}
