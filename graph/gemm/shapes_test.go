package gemm

// shape is one product C(m×n) = A(m×k)·B(k×n) that the models run.
type shape struct {
	name    string
	m, n, k int
}

// modelShapes are the GEMMs of the 784-256-256-10 MLP at batch 128
// (forward, weight gradient Xᵀ·dY and input gradient dY·Wᵀ) and of
// ResNet-18's im2col convolutions.
var modelShapes = []shape{
	{"mlp fc1 fwd 128x784*784x256", 128, 256, 784},
	{"mlp fc2 fwd 128x256*256x256", 128, 256, 256},
	{"mlp fc3 fwd 128x256*256x10", 128, 10, 256},
	{"mlp fc1 dW 784x128*128x256", 784, 256, 128},
	{"mlp fc2 dW 256x128*128x256", 256, 256, 128},
	{"mlp fc3 dW 256x128*128x10", 256, 10, 128},
	{"mlp fc2 dX 128x256*256x256", 128, 256, 256},
	{"mlp fc3 dX 128x10*10x256", 128, 256, 10},
	{"resnet conv1-im2col 1024x576*576x64", 1024, 64, 576},
	{"resnet layer3 32768x1152*1152x128", 128 * 16 * 16, 128, 1152},
}
