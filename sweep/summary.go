package sweep

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"text/tabwriter"

	"github.com/plasticity-lab/plastic/plots"
	"github.com/plasticity-lab/plastic/report"
)

// Row summarises one configuration (runs equal but for the seed).
// Accuracies are in percent; Diff in percentage points.
type Row struct {
	report.Key
	// Runs finished all their epochs; Unfinished did not (diverged,
	// interrupted, failed).
	Runs, Unfinished int
	Final, Best      report.Stat
	// Baseline is the arm compared with ("" for the baseline itself, or
	// when no baseline was named or none matches).
	Baseline string
	// Wins is the number of seeds (of Paired, run by both) whose final test
	// accuracy is strictly above the baseline's at the same seed; Diff is the
	// mean over those seeds of (final - baseline final), in points.
	Wins, Paired int
	Diff         float64
}

// Summarize makes a row per group. baseline, when not empty, names the arm
// compared with: each group is paired with the baseline's group of the same
// data set, model and training fraction, at the same learning rate when
// the baseline ran it, else at the baseline's only learning rate
// (report.PairedDiffs). A baseline that names no arm of the groups is an
// error wrapping report.ErrNoBaseline.
func Summarize(groups []report.Group, baseline string) ([]Row, error) {
	if err := report.CheckBaseline(groups, baseline); err != nil {
		return nil, err
	}
	rows := make([]Row, 0, len(groups))
	for _, g := range groups {
		r := Row{Key: g.Key, Final: pct(g.Final()), Best: pct(g.Best()), Diff: math.NaN()}
		r.Runs = len(g.DoneRuns())
		r.Unfinished = len(g.Runs) - r.Runs
		if baseline != "" && g.Arm != baseline {
			if d, ok := report.PairedDiffs(groups, g, baseline); ok {
				r.Baseline, r.Paired = baseline, len(d)
				for _, x := range d {
					if x > 0 {
						r.Wins++
					}
				}
				if len(d) > 0 {
					r.Diff = report.StatOf(d).Mean
				}
			}
		}
		rows = append(rows, r)
	}
	return rows, nil
}

func pct(s report.Stat) report.Stat {
	return report.Stat{Mean: 100 * s.Mean, Std: 100 * s.Std, N: s.N}
}

// Table is the summary as a CSV table (accuracies in percent, the
// difference in points; empty cells where there is no value).
func Table(rows []Row) *plots.Table {
	t := plots.NewTable("dataset", "model", "arm", "lr", "fraction", "runs", "unfinished",
		"final_acc_mean_pct", "final_acc_std_pct", "best_acc_mean_pct", "best_acc_std_pct",
		"baseline", "wins", "paired_seeds", "diff_vs_baseline_pts")
	for _, r := range rows {
		// Append cannot fail: the widths match the header.
		_ = t.Append(r.Dataset, r.Model, r.Arm, lrCell(r.LR), numCell(r.Fraction), r.Runs, r.Unfinished,
			numCell(r.Final.Mean), numCell(r.Final.Std), numCell(r.Best.Mean), numCell(r.Best.Std),
			r.Baseline, intCell(r.Baseline != "", r.Wins), intCell(r.Baseline != "", r.Paired), numCell(r.Diff))
	}
	return t
}

func numCell(x float64) string {
	if math.IsNaN(x) {
		return ""
	}
	return formatNum(x)
}

// lrCell leaves a learning rate the runs did not record (0) empty.
func lrCell(x float64) string {
	if x == 0 {
		return ""
	}
	return formatNum(x)
}

func intCell(ok bool, n int) string {
	if !ok {
		return ""
	}
	return fmt.Sprint(n)
}

// Print writes the summary as an aligned text table, e.g.
//
//	np-best  0.1  1  3  97.75 ± 0.06  97.80 ± 0.05  beats grad-only in 2/3 seeds, +0.10 points
func Print(w io.Writer, rows []Row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "dataset\tmodel\tconfiguration\tlr\tfraction\tseeds\tfinal acc %\tbest acc %\tvs baseline")
	for _, r := range rows {
		seeds := fmt.Sprint(r.Runs)
		if r.Unfinished > 0 {
			seeds += fmt.Sprintf(" (+%d unfinished)", r.Unfinished)
		}
		vs := ""
		switch {
		case r.Baseline != "" && r.Paired > 0:
			vs = fmt.Sprintf("beats %s in %d/%d seeds, %+.2f points", r.Baseline, r.Wins, r.Paired, r.Diff)
		case r.Baseline != "":
			vs = fmt.Sprintf("no seed in common with %s", r.Baseline)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Dataset, r.Model, r.Arm, lrCell(r.LR), numCell(r.Fraction),
			seeds, statCell(r.Final), statCell(r.Best), vs)
	}
	return tw.Flush()
}

func statCell(s report.Stat) string {
	if s.N == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f ± %.2f", s.Mean, s.Std)
}

// Report summarizes the runs found in dir (a sweep folder) against
// baseline (Summarize), writes the table to dir/SummaryCSV and prints it to
// w, with the path of the CSV.
func Report(w io.Writer, dir, baseline string) error {
	runs, err := report.Find(dir)
	if err != nil {
		return err
	}
	rows, err := Summarize(report.GroupRuns(runs), baseline)
	if err != nil {
		return err
	}
	if err := plots.WriteCSV(filepath.Join(dir, SummaryCSV), *Table(rows)); err != nil {
		return err
	}
	if err := Print(w, rows); err != nil {
		return err
	}
	fmt.Fprintf(w, "summary: %s\n", filepath.Join(dir, SummaryCSV))
	return nil
}
