package plots

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Series is one curve of a LineChart.
type Series struct {
	// Name is the legend entry; series without a name get none.
	Name string
	// X and Y are the points, in order; they must have the same length > 0.
	X, Y []float64
	// Err, if not empty, is the half-width of the error at each point
	// (e.g. a standard deviation over re-trainings), >= 0, one per point.
	Err []float64
}

// Ref is a horizontal reference line of a LineChart at y = Y.
type Ref struct {
	Name string
	Y    float64
}

// ErrorStyle says how a LineChart draws the errors of its series.
type ErrorStyle int

const (
	// Band shades y-err .. y+err around the curve (the default).
	Band ErrorStyle = iota
	// Bars draws a vertical error bar at every point.
	Bars
)

// LineChart is a figure of one or more series against a common x axis.
type LineChart struct {
	Title, XLabel, YLabel string
	Series                []Series
	// Errors says how the series' Err are drawn.
	Errors ErrorStyle
	// Refs are horizontal reference levels (a target, chance accuracy),
	// drawn as grey dashed lines across the chart, with a legend entry.
	Refs []Ref
	// LogX and LogY use a logarithmic axis; every value (and y-err) on it
	// must then be > 0.
	LogX, LogY bool
	// Width and Height of the figure; zero means 16 cm x 10 cm.
	Width, Height vg.Length
}

// markerLimit is the largest number of points for which a series also gets
// a marker at each point.
const markerLimit = 30

func (l LineChart) size() (vg.Length, vg.Length) {
	w, h := l.Width, l.Height
	if w <= 0 {
		w = 16 * vg.Centimeter
	}
	if h <= 0 {
		h = 10 * vg.Centimeter
	}
	return w, h
}

func (l LineChart) check() error {
	if len(l.Series) == 0 {
		return fmt.Errorf("line chart %q has no series", l.Title)
	}
	if l.Errors != Band && l.Errors != Bars {
		return fmt.Errorf("line chart %q: unknown error style %d", l.Title, l.Errors)
	}
	for i, s := range l.Series {
		name := fmt.Sprintf("series %d (%q)", i, s.Name)
		switch {
		case len(s.X) == 0:
			return fmt.Errorf("%s is empty", name)
		case len(s.X) != len(s.Y):
			return fmt.Errorf("%s has %d x values but %d y values", name, len(s.X), len(s.Y))
		case len(s.Err) != 0 && len(s.Err) != len(s.Y):
			return fmt.Errorf("%s has %d points but %d errors", name, len(s.Y), len(s.Err))
		}
		for j := range s.X {
			if !finite(s.X[j]) || !finite(s.Y[j]) {
				return fmt.Errorf("%s point %d is (%v, %v): not finite", name, j, s.X[j], s.Y[j])
			}
			if l.LogX && s.X[j] <= 0 {
				return fmt.Errorf("%s point %d: x = %v on a log axis", name, j, s.X[j])
			}
			if l.LogY && s.Y[j] <= 0 {
				return fmt.Errorf("%s point %d: y = %v on a log axis", name, j, s.Y[j])
			}
			if len(s.Err) > 0 {
				e := s.Err[j]
				if !finite(e) || e < 0 {
					return fmt.Errorf("%s point %d: error %v (want a finite value >= 0)", name, j, e)
				}
				if l.LogY && s.Y[j]-e <= 0 {
					return fmt.Errorf("%s point %d: y - err = %v on a log axis", name, j, s.Y[j]-e)
				}
			}
		}
	}
	for i, r := range l.Refs {
		if !finite(r.Y) || (l.LogY && r.Y <= 0) {
			return fmt.Errorf("reference line %d (%q) at y = %v cannot be drawn", i, r.Name, r.Y)
		}
	}
	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func (l LineChart) draw(c draw.Canvas) {
	p := newPlot(l.Title, l.XLabel, l.YLabel)
	if l.LogX {
		p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, plot.LogTicks{}
	}
	if l.LogY {
		p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, plot.LogTicks{}
	}
	p.Add(plotter.NewGrid())
	var entries []legendEntry
	// Bands first, so that no band covers another series' line.
	if l.Errors == Band {
		for i, s := range l.Series {
			if len(s.Err) == 0 {
				continue
			}
			poly := make(plotter.XYs, 0, 2*len(s.X))
			for j := range s.X {
				poly = append(poly, plotter.XY{X: s.X[j], Y: s.Y[j] + s.Err[j]})
			}
			for j := len(s.X) - 1; j >= 0; j-- {
				poly = append(poly, plotter.XY{X: s.X[j], Y: s.Y[j] - s.Err[j]})
			}
			band, err := plotter.NewPolygon(poly)
			if err != nil {
				panic(err) // check() has ruled out every cause
			}
			band.Color = faded(colorOf(i), 0x40)
			band.LineStyle.Width = 0
			p.Add(band)
		}
	}
	for i, s := range l.Series {
		xys := make(plotter.XYs, len(s.X))
		for j := range s.X {
			xys[j] = plotter.XY{X: s.X[j], Y: s.Y[j]}
		}
		line, err := plotter.NewLine(xys)
		if err != nil {
			panic(err)
		}
		line.Color = colorOf(i)
		line.Width = vg.Points(1.5)
		line.Dashes = dashesOf(i)
		p.Add(line)
		thumb := plot.Thumbnailer(line)
		if len(s.X) <= markerLimit {
			pts, err := plotter.NewScatter(xys)
			if err != nil {
				panic(err)
			}
			pts.Color = colorOf(i)
			pts.Shape = draw.CircleGlyph{}
			pts.Radius = vg.Points(2)
			p.Add(pts)
		}
		if l.Errors == Bars && len(s.Err) > 0 {
			eb, err := plotter.NewYErrorBars(errPoints{s})
			if err != nil {
				panic(err)
			}
			eb.Color = colorOf(i)
			eb.Width = vg.Points(1)
			p.Add(eb)
		}
		if s.Name != "" {
			entries = append(entries, legendEntry{s.Name, thumb})
		}
	}
	for i, r := range l.Refs {
		ref := &refLine{y: r.Y, style: draw.LineStyle{
			Color: color.Gray{Y: 0x50}, Width: vg.Points(1.2),
			Dashes: [][]vg.Length{{vg.Points(5), vg.Points(3)}, {vg.Points(2), vg.Points(2)}}[i%2],
		}}
		p.Add(ref)
		if r.Name != "" {
			entries = append(entries, legendEntry{r.Name, ref})
		}
	}
	drawWithLegend(c, p, entries)
}

// refLine is a horizontal line across the whole x range.
type refLine struct {
	y     float64
	style draw.LineStyle
}

func (r *refLine) Plot(c draw.Canvas, p *plot.Plot) {
	_, trY := p.Transforms(&c)
	y := trY(r.y)
	c.StrokeLines(r.style, c.ClipLinesY([]vg.Point{{X: c.Min.X, Y: y}, {X: c.Max.X, Y: y}})...)
}

// DataRange keeps the line's y in view without widening the x range.
func (r *refLine) DataRange() (xmin, xmax, ymin, ymax float64) {
	return math.Inf(1), math.Inf(-1), r.y, r.y
}

func (r *refLine) Thumbnail(c *draw.Canvas) {
	y := (c.Min.Y + c.Max.Y) / 2
	c.StrokeLine2(r.style, c.Min.X, y, c.Max.X, y)
}

// errPoints adapts a Series to plotter.XYer and plotter.YErrorer.
type errPoints struct{ s Series }

func (e errPoints) Len() int                        { return len(e.s.X) }
func (e errPoints) XY(i int) (float64, float64)     { return e.s.X[i], e.s.Y[i] }
func (e errPoints) YError(i int) (float64, float64) { return e.s.Err[i], e.s.Err[i] }

// Table returns the chart's numbers in long form: one row per point with
// the columns series, x, y, err (err empty where a series has none).
func (l LineChart) Table() (Table, error) {
	if err := l.check(); err != nil {
		return Table{}, fmt.Errorf("plots: %w", err)
	}
	t := Table{Header: []string{"series", "x", "y", "err"}}
	for _, s := range l.Series {
		for j := range s.X {
			e := ""
			if len(s.Err) > 0 {
				e = formatFloat(s.Err[j])
			}
			t.Rows = append(t.Rows, []string{s.Name, formatFloat(s.X[j]), formatFloat(s.Y[j]), e})
		}
	}
	return t, nil
}
