package experiments

import (
	"context"
	"testing"

	"github.com/plasticity-lab/plastic/cuda/devtest"
)

// The re-trainings of Fig. 3, Table 2 and Fig. 6 on the device (the
// emulator in CI): each experiment, tiny, run on the CPU and with
// Env.Device writes the same tables, number for number (the same
// predictions, so the same accuracies): every re-training of Fig. 3 and
// its rule check (the repeats as one device computation per cell),
// Table 2's seeds (each its own subset and network, one computation per
// row), Fig. 6's three curves.
func TestExperimentsOnDeviceMatchCPU(t *testing.T) {
	dev := devtest.Open(t)
	fig3 := tinyFig3()
	fig3.Data = []string{"halfspace", "relu1"}
	fig3.Repeats = 3
	table2 := DefaultTable2()
	table2.Data = []string{"halfspace"}
	table2.Seeds, table2.NTrain, table2.Net = 3, 300, Net{Nodes: 30, Cap: 15}
	table2.T3Learn = RuleLearning{Data: "halfspace", Net: Net{Nodes: 12, Cap: 6, T: 3}, NTrain: 200, Epochs: 1, Hidden: 4}
	fig6 := DefaultFig6()
	fig6.Data, fig6.NTrain, fig6.Net, fig6.Every, fig6.EvalN = "relu1", 300, Net{Nodes: 24, Cap: 12, T: 3}, 100, 200
	fig6.Learn = RuleLearning{Data: "relu1", Net: Net{Nodes: 12, Cap: 6, T: 3}, NTrain: 200, Epochs: 1, Hidden: 4}
	for _, x := range []struct {
		name   string
		run    func(Env) error
		tables []string
	}{
		{"fig3", func(env Env) error { _, err := Fig3(context.Background(), env, fig3); return err },
			[]string{"fig3_runs.csv", "fig3.csv", "fig3_rulecheck.csv"}},
		{"table2", func(env Env) error { _, err := Table2(context.Background(), env, table2); return err },
			[]string{"table2_runs.csv", "table2.csv"}},
		{"fig6", func(env Env) error { _, err := Fig6(context.Background(), env, fig6); return err },
			[]string{"fig6.csv"}},
	} {
		t.Run(x.name, func(t *testing.T) {
			cpu, onDev := testEnv(t), testEnv(t)
			onDev.Device = dev
			if err := x.run(cpu); err != nil {
				t.Fatal(err)
			}
			if err := x.run(onDev); err != nil {
				t.Fatal(err)
			}
			for _, name := range x.tables {
				want, got := readCSV(t, cpu, name), readCSV(t, onDev, name)
				if len(got.Rows) != len(want.Rows) || len(want.Rows) == 0 {
					t.Fatalf("%s: %d rows on the device, %d on the CPU", name, len(got.Rows), len(want.Rows))
				}
				for i := range want.Rows {
					for j := range want.Rows[i] {
						if got.Rows[i][j] != want.Rows[i][j] {
							t.Errorf("%s row %d, %s: device %q, CPU %q", name, i+1, want.Header[j], got.Rows[i][j], want.Rows[i][j])
						}
					}
				}
			}
		})
	}
}
