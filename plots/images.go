package plots

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Image is one grayscale picture of an ImageGrid.
type Image struct {
	// Pixels holds H*W values, row by row from the top row.
	Pixels []float64
	H, W   int
	// Caption is written under the picture (e.g. "7 -> 3, eps 2").
	Caption string
}

// ImageGrid is a figure of grayscale images in rows of Cols, each with its
// caption underneath (e.g. originals in one row, adversarial images below).
type ImageGrid struct {
	Title  string
	Images []Image
	// Cols is the number of images per row; zero means all in one row, up
	// to 10.
	Cols int
	// Low and High are the pixel values drawn black and white (values
	// outside are clipped); both zero means 0 and 1.
	Low, High float64
	// CellWidth is the width of one picture; zero means 2.5 cm.
	CellWidth vg.Length
}

const (
	gridGap     = 0.25 * vg.Centimeter
	captionSize = 9
	titleSize   = 13
)

func (g ImageGrid) layout() (cols, rows int, cell, cellH, capH, titleH vg.Length) {
	cols = g.Cols
	if cols <= 0 {
		cols = len(g.Images)
		if cols > 10 {
			cols = 10
		}
	}
	if cols < 1 {
		cols = 1
	}
	rows = (len(g.Images) + cols - 1) / cols
	cell = g.CellWidth
	if cell <= 0 {
		cell = 2.5 * vg.Centimeter
	}
	aspect := 0.0
	for _, im := range g.Images {
		if im.W > 0 {
			aspect = math.Max(aspect, float64(im.H)/float64(im.W))
		}
	}
	cellH = cell * vg.Length(aspect)
	capH = captionStyle().Height("Mg") + vg.Points(2)
	if g.Title != "" {
		titleH = titleStyle().Height(g.Title) + gridGap
	}
	return
}

func captionStyle() text.Style {
	return text.Style{Font: font.From(plot.DefaultFont, captionSize), Handler: plot.DefaultTextHandler, XAlign: draw.XCenter, YAlign: draw.YTop}
}

func titleStyle() text.Style {
	return text.Style{Font: font.From(plot.DefaultFont, titleSize), Handler: plot.DefaultTextHandler, XAlign: draw.XCenter, YAlign: draw.YTop}
}

func (g ImageGrid) size() (vg.Length, vg.Length) {
	cols, rows, cell, cellH, capH, titleH := g.layout()
	w := vg.Length(cols)*cell + vg.Length(cols+1)*gridGap
	h := titleH + vg.Length(rows)*(cellH+capH+gridGap) + gridGap
	return w, h
}

func (g ImageGrid) check() error {
	if len(g.Images) == 0 {
		return fmt.Errorf("image grid %q has no images", g.Title)
	}
	if g.Cols < 0 {
		return fmt.Errorf("image grid %q: Cols = %d", g.Title, g.Cols)
	}
	lo, hi := g.grayRange()
	if !finite(lo) || !finite(hi) || hi <= lo {
		return fmt.Errorf("image grid %q: gray range [%v, %v] (want Low < High)", g.Title, lo, hi)
	}
	for i, im := range g.Images {
		if im.H <= 0 || im.W <= 0 {
			return fmt.Errorf("image %d (%q) is %d x %d", i, im.Caption, im.H, im.W)
		}
		if len(im.Pixels) != im.H*im.W {
			return fmt.Errorf("image %d (%q) has %d pixels, want H*W = %d*%d = %d", i, im.Caption, len(im.Pixels), im.H, im.W, im.H*im.W)
		}
		for j, v := range im.Pixels {
			if math.IsNaN(v) {
				return fmt.Errorf("image %d (%q) pixel %d is NaN", i, im.Caption, j)
			}
		}
	}
	return nil
}

func (g ImageGrid) grayRange() (float64, float64) {
	if g.Low == 0 && g.High == 0 {
		return 0, 1
	}
	return g.Low, g.High
}

func (g ImageGrid) draw(c draw.Canvas) {
	cols, _, cell, cellH, capH, titleH := g.layout()
	c.FillPolygon(color.White, []vg.Point{c.Min, {X: c.Max.X, Y: c.Min.Y}, c.Max, {X: c.Min.X, Y: c.Max.Y}})
	top := c.Max.Y - gridGap
	if g.Title != "" {
		c.FillText(titleStyle(), vg.Point{X: (c.Min.X + c.Max.X) / 2, Y: top}, g.Title)
		top -= titleH
	}
	lo, hi := g.grayRange()
	for i, im := range g.Images {
		row, col := i/cols, i%cols
		x0 := c.Min.X + gridGap + vg.Length(col)*(cell+gridGap)
		y1 := top - vg.Length(row)*(cellH+capH+gridGap)
		// Fit the picture into the cell, keeping its aspect ratio.
		w := cell
		h := cell * vg.Length(float64(im.H)/float64(im.W))
		xoff := vg.Length(0)
		if h > cellH {
			w, h = cellH*vg.Length(float64(im.W)/float64(im.H)), cellH
			xoff = (cell - w) / 2
		}
		rect := vg.Rectangle{Min: vg.Point{X: x0 + xoff, Y: y1 - h}, Max: vg.Point{X: x0 + xoff + w, Y: y1}}
		c.DrawImage(rect, grayImage(im, lo, hi, int(math.Ceil(w.Dots(DPI)))))
		frame := draw.LineStyle{Color: color.Gray{Y: 0x80}, Width: vg.Points(0.5)}
		c.StrokeLines(frame, []vg.Point{rect.Min, {X: rect.Max.X, Y: rect.Min.Y}, rect.Max, {X: rect.Min.X, Y: rect.Max.Y}, rect.Min})
		if im.Caption != "" {
			c.FillText(captionStyle(), vg.Point{X: x0 + cell/2, Y: y1 - cellH - vg.Points(1)}, im.Caption)
		}
	}
}

// grayImage converts im to 8-bit gray, enlarged by whole pixel copies
// (nearest neighbour) to at least width pixels across, so that pixels stay
// sharp squares in the PNG and in SVG viewers that smooth when scaling.
func grayImage(im Image, lo, hi float64, width int) *image.Gray {
	f := 1
	if width > im.W {
		f = (width + im.W - 1) / im.W
	}
	out := image.NewGray(image.Rect(0, 0, im.W*f, im.H*f))
	for y := 0; y < im.H; y++ {
		for x := 0; x < im.W; x++ {
			v := (im.Pixels[y*im.W+x] - lo) / (hi - lo)
			v = math.Max(0, math.Min(1, v))
			px := color.Gray{Y: uint8(math.Round(v * 255))}
			for dy := 0; dy < f; dy++ {
				for dx := 0; dx < f; dx++ {
					out.SetGray(x*f+dx, y*f+dy, px)
				}
			}
		}
	}
	return out
}
