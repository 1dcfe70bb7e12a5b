package models

import (
	"fmt"

	"github.com/plasticity-lab/plastic/graph"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// resnet18Arch is ResNet-18 for CIFAR-10: a 3x3 stride-1 stem (64 channels,
// no max-pool), four stages of two BasicBlocks (64, 128, 256, 512 channels;
// stages 2-4 start with stride 2 and a 1x1 projection shortcut with batch
// norm), global average pooling and a linear classifier. Convolutions have
// no bias; every one is followed by batch norm. Parameter names and order
// are torchvision's (conv1, bn1, layer1.0.conv1, ..., layerK.0.downsample.0/1, fc).
func resnet18Arch(in []int, classes int) (arch, error) { return resnetArch(in, classes, 64) }

// NewResNet builds ResNet-18's architecture with stage widths
// width x (1, 2, 4, 8) for examples of shape [C,H,W] (New("resnet18") is
// width 64); narrow ones make quick experiments and tests.
func NewResNet(inputShape []int, classes, width int, seed uint64) (Classifier, error) {
	if width < 1 {
		return nil, fmt.Errorf("models: resnet width %d, want >= 1", width)
	}
	if classes < 2 {
		return nil, fmt.Errorf("models: %d classes, want at least 2", classes)
	}
	a, err := resnetArch(inputShape, classes, width)
	if err != nil {
		return nil, err
	}
	n := &net{name: "resnet18", in: append([]int(nil), inputShape...), classes: classes, dt: tensor.Float32, arch: a}
	return n.declare(seed)
}

// resnetArch is ResNet-18 with stage widths width x (1, 2, 4, 8) (64 for
// ResNet-18; narrow ones make quick tests).
func resnetArch(in []int, classes, width int) (arch, error) {
	if len(in) != 3 || in[1] < 8 || in[2] < 8 {
		return nil, fmt.Errorf("resnet18: want images [C,H,W] of at least 8x8, got %v", in)
	}
	return func(b *builder, x *G.Node) (*G.Node, error) {
		h, err := b.conv("conv1", x, width, 3, 1, 1, false, false, initKaiming)
		if err != nil {
			return nil, err
		}
		if h, err = b.bn("bn1", h, true); err != nil {
			return nil, err
		}
		widths := []int{width, 2 * width, 4 * width, 8 * width}
		for s, w := range widths {
			for blk := 0; blk < 2; blk++ {
				stride := 1
				if s > 0 && blk == 0 {
					stride = 2
				}
				if h, err = basicBlock(b, fmt.Sprintf("layer%d.%d", s+1, blk), h, w, stride); err != nil {
					return nil, err
				}
			}
		}
		if h, err = graph.GlobalAvgPool(h); err != nil {
			return nil, err
		}
		return b.dense("fc", h, classes, false, 0)
	}, nil
}

// basicBlock is relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)).
func basicBlock(b *builder, name string, x *G.Node, out, stride int) (*G.Node, error) {
	h, err := b.conv(name+".conv1", x, out, 3, stride, 1, false, false, initKaiming)
	if err != nil {
		return nil, err
	}
	if h, err = b.bn(name+".bn1", h, true); err != nil {
		return nil, err
	}
	if h, err = b.conv(name+".conv2", h, out, 3, 1, 1, false, false, initKaiming); err != nil {
		return nil, err
	}
	if h, err = b.bn(name+".bn2", h, false); err != nil {
		return nil, err
	}
	short := x
	if stride != 1 || x.Shape()[1] != out {
		if short, err = b.conv(name+".downsample.0", x, out, 1, stride, 0, false, false, initKaiming); err != nil {
			return nil, err
		}
		if short, err = b.bn(name+".downsample.1", short, false); err != nil {
			return nil, err
		}
	}
	if h, err = graph.Add(h, short); err != nil {
		return nil, err
	}
	return graph.ReLU(h)
}
