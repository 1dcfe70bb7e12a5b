package plasticity

import (
	"context"

	"github.com/plasticity-lab/plastic/train"
)

func runTask(t train.Task) error { return train.Run(context.Background(), t, train.Options{}) }
