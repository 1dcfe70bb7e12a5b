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

// BarGroup is one bar per category, drawn in one colour (e.g. one network,
// or "train" versus "test").
type BarGroup struct {
	// Name is the legend entry.
	Name string
	// Values has one bar height per category of the chart.
	Values []float64
	// Err, if not empty, has one error-bar half-width (>= 0) per category.
	Err []float64
}

// BarChart is a grouped bar chart: for every category (e.g. a data set) one
// bar per group side by side, each with an optional error bar.
type BarChart struct {
	Title, XLabel, YLabel string
	Categories            []string
	Groups                []BarGroup
	// YMin and YMax fix the y range when YMax > YMin (e.g. 0 and 1 for
	// accuracies); otherwise it covers 0, every bar and every error bar.
	YMin, YMax float64
	// Width and Height of the figure; zero means 16 cm x 10 cm.
	Width, Height vg.Length
}

func (b BarChart) size() (vg.Length, vg.Length) {
	return LineChart{Width: b.Width, Height: b.Height}.size()
}

func (b BarChart) check() error {
	if len(b.Categories) == 0 {
		return fmt.Errorf("bar chart %q has no categories", b.Title)
	}
	if len(b.Groups) == 0 {
		return fmt.Errorf("bar chart %q has no groups", b.Title)
	}
	for i, g := range b.Groups {
		name := fmt.Sprintf("bar group %d (%q)", i, g.Name)
		if len(g.Values) != len(b.Categories) {
			return fmt.Errorf("%s has %d values for %d categories", name, len(g.Values), len(b.Categories))
		}
		if len(g.Err) != 0 && len(g.Err) != len(g.Values) {
			return fmt.Errorf("%s has %d values but %d errors", name, len(g.Values), len(g.Err))
		}
		for j, v := range g.Values {
			if !finite(v) {
				return fmt.Errorf("%s, category %q: value %v is not finite", name, b.Categories[j], v)
			}
			if len(g.Err) > 0 && (!finite(g.Err[j]) || g.Err[j] < 0) {
				return fmt.Errorf("%s, category %q: error %v (want a finite value >= 0)", name, b.Categories[j], g.Err[j])
			}
		}
	}
	if !finite(b.YMin) || !finite(b.YMax) {
		return fmt.Errorf("bar chart %q: y range [%v, %v] is not finite", b.Title, b.YMin, b.YMax)
	}
	return nil
}

func (b BarChart) draw(c draw.Canvas) {
	p := newPlot(b.Title, b.XLabel, b.YLabel)
	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	p.Add(grid)
	var entries []legendEntry
	for i, g := range b.Groups {
		bars := &groupedBars{group: g, index: i, groups: len(b.Groups), color: colorOf(i)}
		p.Add(bars)
		if g.Name != "" {
			entries = append(entries, legendEntry{g.Name, bars})
		}
	}
	p.NominalX(b.Categories...)
	p.X.Min, p.X.Max = -0.5, float64(len(b.Categories))-0.5
	if b.YMax > b.YMin {
		p.Y.Min, p.Y.Max = b.YMin, b.YMax
	}
	drawWithLegend(c, p, entries)
}

// barSpan is the fraction of a category's slot that its bars fill.
const barSpan = 0.8

// groupedBars draws one group's bars (and error bars) in data coordinates,
// so bars and error bars line up at any figure size.
type groupedBars struct {
	group  BarGroup
	index  int // which group: the position of its bar inside a category
	groups int
	color  color.Color
}

func (g *groupedBars) span(cat int) (x0, x1 float64) {
	w := barSpan / float64(g.groups)
	x0 = float64(cat) - barSpan/2 + float64(g.index)*w
	return x0, x0 + w
}

func (g *groupedBars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	edge := draw.LineStyle{Color: color.Black, Width: vg.Points(0.5)}
	for j, v := range g.group.Values {
		x0, x1 := g.span(j)
		lo, hi := math.Min(0, v), math.Max(0, v)
		pts := []vg.Point{{X: trX(x0), Y: trY(lo)}, {X: trX(x1), Y: trY(lo)}, {X: trX(x1), Y: trY(hi)}, {X: trX(x0), Y: trY(hi)}}
		c.FillPolygon(g.color, c.ClipPolygonXY(pts))
		c.StrokeLines(edge, c.ClipLinesXY(append(pts, pts[0]))...)
		if len(g.group.Err) == 0 || g.group.Err[j] == 0 {
			continue
		}
		e := g.group.Err[j]
		xm := trX((x0 + x1) / 2)
		cap := (trX(x1) - trX(x0)) / 4
		bar := draw.LineStyle{Color: color.Black, Width: vg.Points(1)}
		ylo, yhi := trY(v-e), trY(v+e)
		c.StrokeLines(bar, c.ClipLinesXY(
			[]vg.Point{{X: xm, Y: ylo}, {X: xm, Y: yhi}},
			[]vg.Point{{X: xm - cap, Y: ylo}, {X: xm + cap, Y: ylo}},
			[]vg.Point{{X: xm - cap, Y: yhi}, {X: xm + cap, Y: yhi}},
		)...)
	}
}

func (g *groupedBars) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = -0.5, float64(len(g.group.Values))-0.5
	for j, v := range g.group.Values {
		e := 0.0
		if len(g.group.Err) > 0 {
			e = g.group.Err[j]
		}
		ymin = math.Min(ymin, v-e)
		ymax = math.Max(ymax, v+e)
	}
	if ymax == ymin {
		ymax = ymin + 1
	}
	return xmin, xmax, ymin, ymax
}

// Thumbnail draws the legend swatch.
func (g *groupedBars) Thumbnail(c *draw.Canvas) {
	pts := []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Min.X, Y: c.Max.Y}}
	c.FillPolygon(g.color, pts)
}

// Table returns the chart's numbers in long form: one row per bar with the
// columns category, group, value, err (err empty where a group has none).
func (b BarChart) Table() (Table, error) {
	if err := b.check(); err != nil {
		return Table{}, fmt.Errorf("plots: %w", err)
	}
	t := Table{Header: []string{"category", "group", "value", "err"}}
	for j, cat := range b.Categories {
		for _, g := range b.Groups {
			e := ""
			if len(g.Err) > 0 {
				e = formatFloat(g.Err[j])
			}
			t.Rows = append(t.Rows, []string{cat, g.Name, formatFloat(g.Values[j]), e})
		}
	}
	return t, nil
}
