package classify

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/plasticity-lab/plastic/models"
	"github.com/plasticity-lab/plastic/train"
)

// crashAt stops the run at the end of an epoch, like a crash between the
// hooks before it and those after it.
type crashAt struct{ epoch int }

var errCrash = errors.New("crash")

func (c crashAt) OnEpochEnd(s *train.State) error {
	if s.Epoch == c.epoch {
		return errCrash
	}
	return nil
}

// Also (issue 16): the checkpoint of an epoch is written by the trainer as
// a hook, after the hooks before it (the run's metrics line), never inside
// EndEpoch: a crash between the two leaves the metrics line and the
// previous checkpoint, which resume replays, not a checkpoint whose metrics
// line is lost.
func TestCheckpointAfterEarlierHooks(t *testing.T) {
	ckpt := filepath.Join(t.TempDir(), "ckpt.bin")
	tr := newTrainer(t, "adam", 0.01, 3, ckpt)
	err := train.Run(context.Background(), tr, train.Options{Hooks: []any{crashAt{2}, tr}})
	if !errors.Is(err, errCrash) {
		t.Fatal(err)
	}
	m, _ := models.New("mlp", []int{12}, 3, 5)
	var st State
	if err := models.LoadCheckpoint(ckpt, m, &st, nil); err != nil {
		t.Fatal(err)
	}
	if st.Epoch != 1 {
		t.Fatalf("checkpoint of epoch %d after a crash at the end of epoch 2, want 1", st.Epoch)
	}
	// Without the trainer among the hooks, nothing is written.
	other := filepath.Join(t.TempDir(), "none.bin")
	tr2 := newTrainer(t, "adam", 0.01, 1, other)
	if err := train.Run(context.Background(), tr2, train.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(other); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("EndEpoch wrote a checkpoint: %v", err)
	}
}
