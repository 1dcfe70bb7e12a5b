package data

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// Options of Load. Zero values mean the defaults.
type Options struct {
	Dir    string  // data folder (mnist/, fashion-mnist/, cifar10/ inside); "data" when empty
	Seed   int64   // seed of generated sets
	NTrain int     // generated sets: number of training points (10,000); file sets: keep the first NTrain (all when 0)
	NTest  int     // the same for the test set
	Dim    int     // generated sets: input dimension (10)
	Width  int     // ReLU sets: hidden width (100)
	Points string  // ReLU sets: PointsUniform in [-1,1] (default) or PointsNormal
	Noise  float64 // generated sets: probability of flipping each label
}

// Generator makes a generated set's train and test parts from the options.
type Generator func(o Options) (train, test *Set, err error)

var (
	genMu      sync.RWMutex
	generators = map[string]Generator{}
)

// RegisterGenerator adds a generated set under name (lower case), for
// packages that own the labelling function: models.RegisterDataSets
// registers "rnn-labelled", which a program calls explicitly before it
// lists or loads data sets. It panics on a duplicate or built-in name,
// like http.Handle.
func RegisterGenerator(name string, gen func(o Options) (train, test *Set, err error)) {
	name = strings.ToLower(name)
	genMu.Lock()
	defer genMu.Unlock()
	if _, dup := generators[name]; dup || isBuiltin(name) {
		panic(fmt.Sprintf("data: generator %q registered twice", name))
	}
	generators[name] = gen
}

// elsewhere names the sets other packages generate, and the call that
// registers each, for a clear error when a program did not make it.
var elsewhere = map[string]string{"rnn-labelled": "models.RegisterDataSets"}

var builtins = []string{"mnist", "fashion-mnist", "cifar10", "halfspace", "relu1", "relu2"}

var aliases = map[string]string{"fashion": "fashion-mnist", "fashionmnist": "fashion-mnist", "cifar-10": "cifar10"}

func isBuiltin(name string) bool {
	for _, b := range builtins {
		if b == name {
			return true
		}
	}
	return false
}

// Names lists the data sets Load knows: the built-in ones in order, then the
// registered generators sorted.
func Names() []string {
	out := append([]string{}, builtins...)
	genMu.RLock()
	var extra []string
	for n := range generators {
		extra = append(extra, n)
	}
	genMu.RUnlock()
	sort.Strings(extra)
	return append(out, extra...)
}

// IsGenerated reports whether name is a generated (synthetic) set rather than
// one read from files.
func IsGenerated(name string) bool {
	name = canonical(name)
	switch name {
	case "halfspace", "relu1", "relu2":
		return true
	}
	genMu.RLock()
	defer genMu.RUnlock()
	_, ok := generators[name]
	return ok
}

func canonical(name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	if a, ok := aliases[name]; ok {
		return a
	}
	return name
}

// Load returns the train and test sets called name (see Names). Images are
// scaled to [0,1] and flattened (Shape keeps the image shape); Files says
// which files were read. Missing files give an error naming the path and
// the `plastic data fetch` command; test images of another shape than the
// training images are an error. MNIST: see FindMNIST and ModuleFallback.
func Load(name string, o Options) (train, test *Set, err error) {
	name = canonical(name)
	if o.Dir == "" {
		o.Dir = "data"
	}
	switch name {
	case "mnist":
		dir, ok := FindMNIST(o.Dir)
		if !ok {
			return nil, nil, mnistDirError(o.Dir)
		}
		train, test, err = loadIDXDir("mnist", dir)
	case "fashion-mnist":
		train, test, err = loadIDXDir("fashion-mnist", filepath.Join(o.Dir, "fashion-mnist"))
	case "cifar10":
		train, test, err = loadCIFAR(o.Dir)
	case "halfspace":
		return Halfspace(o)
	case "relu1", "relu2":
		return ReLU(name, o)
	default:
		genMu.RLock()
		gen, ok := generators[name]
		genMu.RUnlock()
		if reg, known := elsewhere[name]; !ok && known {
			return nil, nil, fmt.Errorf("data set %q is generated outside package data and this program did not register it (call %s first)", name, reg)
		}
		if !ok {
			return nil, nil, fmt.Errorf("unknown data set %q; valid names: %s", name, strings.Join(Names(), ", "))
		}
		return gen(o)
	}
	if err != nil {
		return nil, nil, err
	}
	return head(train, o.NTrain), head(test, o.NTest), nil
}

// head keeps the first n examples of s (all when n <= 0 or n >= N).
func head(s *Set, n int) *Set {
	if n <= 0 || n >= s.N {
		return s
	}
	t := *s
	t.N = n
	t.X = s.X[: n*s.Dim : n*s.Dim]
	t.Y = s.Y[:n:n]
	return &t
}
