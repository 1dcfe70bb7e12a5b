package classify

import (
	"errors"
	"fmt"
	"math"

	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/graph"
	"github.com/plasticity-lab/plastic/models"
	"github.com/plasticity-lab/plastic/optimizer"
	"github.com/plasticity-lab/plastic/train"
)

// deviceRun is the device backend of a Trainer: the network and the
// optimizer on Config.Device, the test set uploaded once, and the two
// dropout streams of the CPU sessions (full batches and the partial last
// one), reset from (seed, epoch) like theirs.
type deviceRun struct {
	net        *models.DeviceNet
	opt        *optimizer.Device
	test       *models.DeviceSet
	full       int // examples of a full batch
	drop, tail graph.DropStream
}

func (t *Trainer) newDevice() error {
	c := t.cfg.Device
	// The optimizer learns the parameters' names and shapes from a batch-1
	// evaluation session (no activations of training size on the host).
	s1, err := t.Model.NewSession(1, false)
	if err != nil {
		return err
	}
	t.Opt.SetTotalEpochs(t.cfg.Epochs)
	err = t.Opt.Init(s1.ValueGrads())
	s1.Close()
	if err != nil {
		return err
	}
	d := &deviceRun{full: min(t.cfg.BatchSize, t.Train.N)}
	if d.net, err = models.NewDeviceNet(c, t.Model, max(d.full, t.cfg.EvalBatch)); err != nil {
		return fmt.Errorf("classify: %s on the device: %w", t.Model.Name(), err)
	}
	var ts []optimizer.DeviceTensor
	for _, x := range d.net.Tensors() {
		ts = append(ts, optimizer.DeviceTensor{Name: x.Name, Shape: x.Shape, Offset: x.Offset, N: x.N})
	}
	if d.opt, err = optimizer.NewDevice(c, t.Opt, d.net.Params(), d.net.Grads(), ts); err != nil {
		d.net.Free()
		return fmt.Errorf("classify: %s optimizer on the device: %w", t.Opt.Name(), err)
	}
	if d.test, err = d.net.UploadSet(t.Test.X[:t.Test.N*t.Test.Dim], t.Test.Y[:t.Test.N]); err != nil {
		d.opt.Free()
		d.net.Free()
		return err
	}
	t.dev = d
	t.x = make([]float32, t.cfg.BatchSize*t.Train.Dim)
	t.y = make([]int, t.cfg.BatchSize)
	return nil
}

func (d *deviceRun) free() {
	c := d.net.Context()
	d.test.Free(c)
	d.opt.Free()
	d.net.Free()
}

// download copies the device's model and optimizer state to the host
// (checkpoints); upload copies the host's to the device (resume).
func (d *deviceRun) download() error {
	if err := d.net.Download(); err != nil {
		return err
	}
	return d.opt.DownloadState()
}

func (d *deviceRun) upload() error {
	if err := d.net.Upload(); err != nil {
		return err
	}
	return d.opt.UploadState()
}

// deviceStep is Step on the device: the same batch, augmentation and
// dropout stream as the CPU step, the loss and accuracy counters back.
func (t *Trainer) deviceStep(s *train.State) (int, map[string]float64, error) {
	d := t.dev
	if s.Step == 1 {
		t.Opt.SetEpoch(s.Epoch)
		d.drop = graph.NewDropStream(uint64(t.cfg.Seed), uint64(s.Epoch))
		d.tail = graph.NewDropStream(uint64(t.cfg.Seed), uint64(s.Epoch)|1<<32)
		t.lossSum, t.correct, t.seen = 0, 0, 0
	}
	n := t.batcher.Batch(s.Epoch, s.Step-1, t.x, t.y)
	if t.cfg.Augment != nil {
		t.cfg.Augment.Apply(s.Epoch, s.Step-1, t.x, n)
	}
	stream := &d.drop
	if n != d.full {
		stream = &d.tail
	}
	res, err := d.net.TrainStep(t.x[:n*t.Train.Dim], t.y[:n], stream)
	if err != nil {
		return 0, nil, err
	}
	loss := res.LossSum / float64(n)
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		// Leave the weights as they are; train.NaNCheck stops the run.
		return n, map[string]float64{"loss": loss}, nil
	}
	if err := d.opt.Step(); err != nil {
		var nf *optimizer.NonFiniteError
		if errors.As(err, &nf) {
			return 0, nil, fmt.Errorf("%w: %v (lower the learning rate?)", train.ErrDiverged, err)
		}
		return 0, nil, err
	}
	t.lossSum += res.LossSum
	t.correct += res.Correct
	t.seen += n
	return n, map[string]float64{"loss": loss}, nil
}

// deviceEvaluate evaluates on the device: the resident test set, or set
// uploaded for the call.
func (t *Trainer) deviceEvaluate(set *data.Set) (loss, acc float64, err error) {
	d := t.dev
	ds := d.test
	if set != t.Test {
		if ds, err = d.net.UploadSet(set.X[:set.N*set.Dim], set.Y[:set.N]); err != nil {
			return 0, 0, err
		}
		defer ds.Free(d.net.Context())
	}
	res, err := d.net.Evaluate(ds)
	if err != nil {
		return 0, 0, err
	}
	return res.LossSum / float64(set.N), float64(res.Correct) / float64(set.N), nil
}
