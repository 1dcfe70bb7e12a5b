package plots

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/plasticity-lab/plastic/internal/atomicfile"
)

// DPI is the resolution of the PNG files.
const DPI = 150

// Figure is one of LineChart, BarChart or ImageGrid.
type Figure interface {
	// size is the figure's width and height.
	size() (w, h vg.Length)
	// check reports bad input before anything is drawn.
	check() error
	// draw renders the figure onto c.
	draw(c draw.Canvas)
}

// Save writes fig as base+".png" and base+".svg" (a trailing ".png" or
// ".svg" on base is dropped first), creating base's folder if needed. Each
// file is written to a temporary file in the same folder and renamed into
// place.
func Save(base string, fig Figure) error {
	if fig == nil {
		return fmt.Errorf("plots: Save %q: nil figure", base)
	}
	if base == "" {
		return fmt.Errorf("plots: Save: empty file name")
	}
	if err := fig.check(); err != nil {
		return fmt.Errorf("plots: %s: %w", base, err)
	}
	switch strings.ToLower(filepath.Ext(base)) {
	case ".png", ".svg":
		base = strings.TrimSuffix(base, filepath.Ext(base))
	}
	if err := os.MkdirAll(filepath.Dir(base), 0o755); err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	w, h := fig.size()

	png := vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(DPI))}
	if err := render(base+".png", fig, png); err != nil {
		return err
	}
	return render(base+".svg", fig, vgsvg.New(w, h))
}

// render draws fig onto c and writes the result atomically to path.
func render(path string, fig Figure, c vg.CanvasWriterTo) (err error) {
	defer func() {
		// gonum/plot reports some drawing failures (an image it cannot
		// encode, say) by panicking; turn them into errors.
		if r := recover(); r != nil {
			err = fmt.Errorf("plots: drawing %s: %v", path, r)
		}
	}()
	fig.draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return fmt.Errorf("plots: encoding %s: %w", path, err)
	}
	return writeAtomic(path, &buf)
}

// writeAtomic writes r's bytes to path with atomicfile.Write.
func writeAtomic(path string, r io.Reader) error {
	b, err := io.ReadAll(r)
	if err == nil {
		err = atomicfile.Write(path, b)
	}
	if err != nil {
		return fmt.Errorf("plots: writing %s: %w", path, err)
	}
	return nil
}
