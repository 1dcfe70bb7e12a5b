package plasticity

import (
	"context"
	"math/rand"
	"testing"

	"github.com/plasticity-lab/plastic/cuda/devtest"
	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/models"
	"github.com/plasticity-lab/plastic/train"
)

// Networks with their own data sets (Table 2's seeds: each a different
// subset and network) train in one device computation through
// DeviceTrainTask and end as the CPU's TrainTask runs of each network
// end: the same train and test accuracies, the same weights (1e-5). Two
// of the test sets are copies (other pointers, same features): they share
// their rows on the device.
func TestDeviceTrainTaskEachMatchesCPU(t *testing.T) {
	dev := devtest.Open(t)
	all := blobs(21, 600, 10, 3)
	rng := rand.New(rand.NewSource(3))
	rs := &RuleSet{Rounds: 2, RNN: RandomTable(TargetRNN, 2, rng), Output: RandomTable(TargetOutput, 2, rng)}
	var nets []*models.RNN
	var trains, tests []*data.Set
	for b := 0; b < 3; b++ {
		net, err := models.NewRNN(models.RNNConfig{Inputs: all.Dim, Labels: all.Classes, Nodes: 30, P: 0.5, Cap: 12, T: 2}, int64(40+b))
		if err != nil {
			t.Fatal(err)
		}
		nets = append(nets, net)
		perm := rand.New(rand.NewSource(int64(b))).Perm(400)
		trains = append(trains, data.Select(all, perm[:150]))
		test := identity(600)[400:]
		if b == 2 {
			test = identity(600)[450:]
			test = append(test, identity(600)[:50]...)
		}
		tests = append(tests, data.Select(all, test))
	}
	seeds := []int64{5, 6, 7}
	for _, shuffle := range []bool{false, true} {
		var wantOnline, wantTrain, wantTest []float64
		var wantNets []*models.RNN
		for b, net := range nets {
			tr, err := NewTrainer(net, rs, Scheme{})
			if err != nil {
				t.Fatal(err)
			}
			task, err := NewTrainTask(tr, trains[b], tests[b], 2, 40, shuffle, seeds[b])
			if err != nil {
				t.Fatal(err)
			}
			last := lastEpochMetrics(t, task)
			wantTrain, wantTest = append(wantTrain, last["train_acc"]), append(wantTest, last["test_acc"])
			wantOnline = append(wantOnline, last["online_acc"])
			wantNets = append(wantNets, tr.Network())
			tr.Close()
		}
		dt, err := NewDeviceTrainer(dev, nets, rs, Scheme{})
		if err != nil {
			t.Fatal(err)
		}
		task, err := NewDeviceTrainTaskEach(dt, trains, tests, 2, 40, shuffle, seeds)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(dt.base); got != 6 {
			t.Fatalf("%d sets on the device, want 6", got)
		}
		if dt.base[tests[0]] != dt.base[tests[1]] || dt.base[tests[2]] == dt.base[tests[0]] {
			t.Fatalf("test sets' rows start at %d, %d, %d: want the copies shared", dt.base[tests[0]], dt.base[tests[1]], dt.base[tests[2]])
		}
		if err := train.Run(context.Background(), task, train.Options{}); err != nil {
			t.Fatal(err)
		}
		got, err := dt.Trained()
		if err != nil {
			t.Fatal(err)
		}
		for b := range nets {
			if task.TrainAcc[b] != wantTrain[b] || task.TestAcc[b] != wantTest[b] || task.OnlineAcc[b] != wantOnline[b] {
				t.Errorf("shuffle %v, network %d: device online/train/test accuracy %v/%v/%v, CPU %v/%v/%v", shuffle, b,
					task.OnlineAcc[b], task.TrainAcc[b], task.TestAcc[b], wantOnline[b], wantTrain[b], wantTest[b])
			}
			for _, m := range []struct {
				name      string
				dev, want []float64
			}{{"W", got[b].W, wantNets[b].W}, {"U", got[b].U, wantNets[b].U}} {
				if e := relErr64(m.dev, m.want); !(e <= 1e-5) {
					t.Errorf("shuffle %v, network %d: %s off by %.3g", shuffle, b, m.name, e)
				}
			}
		}
		if _, err := NewDeviceTrainTaskEach(dt, trains[:2], tests, 1, 40, false, seeds); err == nil {
			t.Error("2 train sets for 3 networks: no error")
		}
		if _, err := dt.AccuracyEach([]*data.Set{tests[0], tests[1], trains[0]}); err == nil {
			t.Error("sets of different sizes evaluated in step: no error")
		}
		dt.Close()
	}
}

type epochHook func(*train.State) error

func (f epochHook) OnEpochEnd(s *train.State) error { return f(s) }
