package plots

import (
	"bytes"
	"image"
	_ "image/png"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// checkFiles asserts that Save wrote a decodable PNG of the expected size
// and an SVG document, and no temporary files were left behind.
func checkFiles(t *testing.T, base string, wantW, wantH int) {
	t.Helper()
	data, err := os.ReadFile(base + ".png")
	if err != nil {
		t.Fatal(err)
	}
	img, format, err := image.Decode(bytes.NewReader(data))
	if err != nil || format != "png" {
		t.Fatalf("%s.png: format %q, err %v", base, format, err)
	}
	b := img.Bounds()
	if d := math.Abs(float64(b.Dx()-wantW)) + math.Abs(float64(b.Dy()-wantH)); d > 2 {
		t.Fatalf("%s.png is %dx%d, want about %dx%d", base, b.Dx(), b.Dy(), wantW, wantH)
	}
	// A figure is not a blank page: count the non-white pixels.
	ink := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bb, _ := img.At(x, y).RGBA()
			if r < 0xf000 || g < 0xf000 || bb < 0xf000 {
				ink++
			}
		}
	}
	if frac := float64(ink) / float64(b.Dx()*b.Dy()); frac < 0.01 || frac > 0.9 {
		t.Fatalf("%s.png: %.3f of the pixels are inked", base, frac)
	}
	svg, err := os.ReadFile(base + ".svg")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.TrimSpace(string(svg))
	if !(strings.HasPrefix(s, "<?xml") || strings.HasPrefix(s, "<svg")) || !strings.Contains(s, "</svg>") {
		t.Fatalf("%s.svg does not look like SVG: %.60q", base, s)
	}
	if len(svg) < 1000 || len(svg) > 20<<20 || len(data) < 1000 || len(data) > 20<<20 {
		t.Fatalf("sizes: png %d, svg %d bytes", len(data), len(svg))
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(base), ".*tmp*"))
	if len(left) > 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

// px is the PNG size in pixels of a length in centimetres.
func px(cm float64) int { return int(math.Round(cm / 2.54 * DPI)) }

func demoLines() LineChart {
	x := []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	var a, b, ea []float64
	for _, v := range x {
		a = append(a, 1-math.Exp(-v/3))
		b = append(b, 0.8-0.6*math.Exp(-v/2))
		ea = append(ea, 0.05+0.01*v)
	}
	return LineChart{
		Title: "accuracy over training", XLabel: "samples seen (thousands)", YLabel: "test accuracy",
		Series: []Series{{Name: "output rule", X: x, Y: a, Err: ea}, {Name: "Adam on output weights", X: x, Y: b}},
	}
}

func TestLineChartFiles(t *testing.T) {
	dir := t.TempDir()
	for _, style := range []ErrorStyle{Band, Bars} {
		c := demoLines()
		c.Errors = style
		base := filepath.Join(dir, "sub", "lines"+[]string{"Band", "Bars"}[style])
		if err := Save(base+".png", c); err != nil { // extension is dropped
			t.Fatal(err)
		}
		checkFiles(t, base, px(16), px(10))
	}
}

func TestLineChartRefsAndLongTitle(t *testing.T) {
	c := demoLines()
	c.Title = strings.Repeat("a very long title that does not fit ", 4)
	c.Refs = []Ref{{Name: "chance", Y: 0.5}, {Name: "target", Y: 1.2}}
	base := filepath.Join(t.TempDir(), "refs")
	if err := Save(base, c); err != nil {
		t.Fatal(err)
	}
	checkFiles(t, base, px(16), px(10))
	c.Refs = []Ref{{Name: "bad", Y: math.Inf(1)}}
	if err := Save(base, c); err == nil || !strings.Contains(err.Error(), `reference line 0 ("bad")`) {
		t.Fatalf("infinite reference: %v", err)
	}
}

func TestLineChartLogAndManySeries(t *testing.T) {
	var ss []Series
	for i := 0; i < 12; i++ { // more series than colours: dashes take over
		x := make([]float64, 200)
		y := make([]float64, 200)
		for j := range x {
			x[j] = float64(j + 1)
			y[j] = math.Pow(x[j], -0.5) * float64(i+1)
		}
		ss = append(ss, Series{Name: "s" + string(rune('a'+i)), X: x, Y: y})
	}
	base := filepath.Join(t.TempDir(), "log")
	if err := Save(base, LineChart{Title: "log", LogX: true, LogY: true, Series: ss}); err != nil {
		t.Fatal(err)
	}
	checkFiles(t, base, px(16), px(10))
}

func TestBarChartFiles(t *testing.T) {
	c := BarChart{
		Title: "rule transfer", YLabel: "accuracy", YMin: 0, YMax: 1,
		Categories: []string{"Halfspace", "ReLU1", "ReLU2", "RNN", "MNIST", "Fashion"},
		Groups: []BarGroup{
			{Name: "small T=1 train", Values: []float64{.95, .8, .78, .7, .85, .75}, Err: []float64{.01, .02, .03, .01, .02, .01}},
			{Name: "small T=1 test", Values: []float64{.94, .79, .77, .69, .84, .74}, Err: []float64{.01, .02, .03, .01, .02, .01}},
			{Name: "large T=3 test", Values: []float64{.97, .85, .8, .75, .9, .8}},
		},
	}
	base := filepath.Join(t.TempDir(), "bars")
	if err := Save(base, c); err != nil {
		t.Fatal(err)
	}
	checkFiles(t, base, px(16), px(10))
	// Negative values and an automatic range also draw.
	c.YMin, c.YMax = 0, 0
	c.Groups[2].Values[0] = -0.3
	if err := Save(base+"2", c); err != nil {
		t.Fatal(err)
	}
	checkFiles(t, base+"2", px(16), px(10))
}

func TestImageGridFiles(t *testing.T) {
	var ims []Image
	for k := 0; k < 8; k++ {
		p := make([]float64, 28*28)
		for y := 0; y < 28; y++ {
			for x := 0; x < 28; x++ {
				if (x-14)*(x-14)+(y-14)*(y-14) < (k+3)*(k+3) {
					p[y*28+x] = 1
				}
			}
		}
		ims = append(ims, Image{Pixels: p, H: 28, W: 28, Caption: "label " + string(rune('0'+k))})
	}
	ims = append(ims, Image{Pixels: make([]float64, 10*20), H: 10, W: 20, Caption: "wide"})
	g := ImageGrid{Title: "originals (top) and adversarial (bottom)", Images: ims, Cols: 5}
	base := filepath.Join(t.TempDir(), "grid")
	if err := Save(base, g); err != nil {
		t.Fatal(err)
	}
	w, h := g.size()
	checkFiles(t, base, int(math.Round(w.Dots(DPI))), int(math.Round(h.Dots(DPI))))
	// The first picture's centre is white (value 1), its corner black.
	f, _ := os.Open(base + ".png")
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	_, _, cell, _, _, titleH := g.layout()
	gap := gridGap.Dots(DPI)
	cx := int(gap + cell.Dots(DPI)/2)
	cy := int(titleH.Dots(DPI) + gap + cell.Dots(DPI)/2)
	if r, _, _, _ := img.At(cx, cy).RGBA(); r < 0xf000 {
		t.Fatalf("centre of the first image is %x, want white", r)
	}
	if r, _, _, _ := img.At(int(gap+4), int(titleH.Dots(DPI)+gap+4)).RGBA(); r > 0x1000 {
		t.Fatalf("corner of the first image is %x, want black", r)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		fig  Figure
		want string
	}{
		{"no series", LineChart{Title: "t"}, "no series"},
		{"empty series", LineChart{Series: []Series{{Name: "a"}}}, `series 0 ("a") is empty`},
		{"mismatch", LineChart{Series: []Series{{Name: "a", X: []float64{1, 2}, Y: []float64{1}}}}, "2 x values but 1 y values"},
		{"err length", LineChart{Series: []Series{{X: []float64{1, 2}, Y: []float64{1, 2}, Err: []float64{1}}}}, "2 points but 1 errors"},
		{"negative err", LineChart{Series: []Series{{X: []float64{1}, Y: []float64{1}, Err: []float64{-1}}}}, "error -1"},
		{"NaN", LineChart{Series: []Series{{X: []float64{1}, Y: []float64{math.NaN()}}}}, "not finite"},
		{"log of zero", LineChart{LogY: true, Series: []Series{{X: []float64{1}, Y: []float64{0}}}}, "log axis"},
		{"no categories", BarChart{Groups: []BarGroup{{Values: []float64{1}}}}, "no categories"},
		{"bar mismatch", BarChart{Categories: []string{"a", "b"}, Groups: []BarGroup{{Name: "g", Values: []float64{1}}}}, `bar group 0 ("g") has 1 values for 2 categories`},
		{"no images", ImageGrid{}, "no images"},
		{"pixel count", ImageGrid{Images: []Image{{Pixels: make([]float64, 5), H: 2, W: 3}}}, "has 5 pixels, want H*W = 2*3 = 6"},
		{"gray range", ImageGrid{Low: 1, High: 1, Images: []Image{{Pixels: []float64{0}, H: 1, W: 1}}}, "gray range"},
	}
	for _, c := range cases {
		base := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_"))
		err := Save(base, c.fig)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), base) {
			t.Errorf("%s: err = %v, want it to name %q and the file", c.name, err, c.want)
		}
		if _, statErr := os.Stat(base + ".png"); statErr == nil {
			t.Errorf("%s: a PNG was written for bad input", c.name)
		}
	}
	if err := Save("", demoLines()); err == nil {
		t.Error("empty file name accepted")
	}
}

func TestCSVRoundTrip(t *testing.T) {
	tab := NewTable("data set", "network", "accuracy", "runs")
	rows := [][]any{
		{"Halfspace", "small, T=1", 0.1 + 0.2, 10},
		{"MNIST \"real\"", "large\nT=3", math.Pi, 3},
		{"tiny", "x", 1e-300, -1},
		{"nan", "x", math.NaN(), 0},
	}
	for _, r := range rows {
		if err := tab.Append(r...); err != nil {
			t.Fatal(err)
		}
	}
	if err := tab.Append("too", "few"); err == nil || !strings.Contains(err.Error(), "2 cells for 4 columns") {
		t.Fatalf("short row: %v", err)
	}
	path := filepath.Join(t.TempDir(), "a", "table.csv")
	if err := WriteCSV(path, *tab); err != nil {
		t.Fatal(err)
	}
	got, err := ReadCSV(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Header, tab.Header) || !reflect.DeepEqual(got.Rows, tab.Rows) {
		t.Fatalf("round trip:\n got %q %q\nwant %q %q", got.Header, got.Rows, tab.Header, tab.Rows)
	}
	acc, err := got.Floats("accuracy")
	if err != nil {
		t.Fatal(err)
	}
	if acc[0] != 0.1+0.2 || acc[1] != math.Pi || acc[2] != 1e-300 || !math.IsNaN(acc[3]) {
		t.Fatalf("floats do not round trip exactly: %v", acc)
	}
	if _, err := got.Floats("network"); err == nil || !strings.Contains(err.Error(), `"small, T=1" is not a number`) {
		t.Fatalf("non-number: %v", err)
	}
	if _, err := got.Column("nope"); err == nil || !strings.Contains(err.Error(), `no column "nope"`) {
		t.Fatalf("missing column: %v", err)
	}
}

func TestCSVBadInput(t *testing.T) {
	dir := t.TempDir()
	if err := WriteCSV(filepath.Join(dir, "x.csv"), Table{}); err == nil || !strings.Contains(err.Error(), "no header") {
		t.Fatalf("no header: %v", err)
	}
	bad := Table{Header: []string{"a", "b"}, Rows: [][]string{{"1", "2"}, {"3"}}}
	if err := WriteCSV(filepath.Join(dir, "y.csv"), bad); err == nil || !strings.Contains(err.Error(), "row 2 has 1 cells for 2 columns") {
		t.Fatalf("ragged: %v", err)
	}
	ragged := filepath.Join(dir, "ragged.csv")
	os.WriteFile(ragged, []byte("a,b\n1,2\n3\n"), 0o644)
	if _, err := ReadCSV(ragged); err == nil || !strings.Contains(err.Error(), "ragged.csv") {
		t.Fatalf("ragged file: %v", err)
	}
	empty := filepath.Join(dir, "empty.csv")
	os.WriteFile(empty, nil, 0o644)
	if _, err := ReadCSV(empty); err == nil || !strings.Contains(err.Error(), "empty file") {
		t.Fatalf("empty file: %v", err)
	}
	if _, err := ReadCSV(filepath.Join(dir, "missing.csv")); err == nil {
		t.Fatal("missing file accepted")
	}
}

func TestFigureTables(t *testing.T) {
	lt, err := demoLines().Table()
	if err != nil {
		t.Fatal(err)
	}
	if len(lt.Rows) != 20 || lt.Rows[0][0] != "output rule" || lt.Rows[0][3] != "0.05" || lt.Rows[10][3] != "" {
		t.Fatalf("line table: %q", lt.Rows[:2])
	}
	bt, err := BarChart{Categories: []string{"a", "b"}, Groups: []BarGroup{{Name: "g", Values: []float64{1, 2}, Err: []float64{0.5, 0}}}}.Table()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"a", "g", "1", "0.5"}, {"b", "g", "2", "0"}}
	if !reflect.DeepEqual(bt.Rows, want) {
		t.Fatalf("bar table %q, want %q", bt.Rows, want)
	}
	if _, err := (LineChart{}).Table(); err == nil {
		t.Fatal("table of an empty chart")
	}
}
