package plots

import (
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// palette is the colour cycle (Tableau 10): distinct and readable in print.
var palette = []color.RGBA{
	{0x1f, 0x77, 0xb4, 0xff}, {0xff, 0x7f, 0x0e, 0xff}, {0x2c, 0xa0, 0x2c, 0xff},
	{0xd6, 0x27, 0x28, 0xff}, {0x94, 0x67, 0xbd, 0xff}, {0x8c, 0x56, 0x4b, 0xff},
	{0xe3, 0x77, 0xc2, 0xff}, {0x7f, 0x7f, 0x7f, 0xff}, {0xbc, 0xbd, 0x22, 0xff},
	{0x17, 0xbe, 0xcf, 0xff},
}

// dashes is the dash cycle, advanced once per pass through the palette so
// that series 11 and later stay distinguishable from 1 to 10.
var dashes = [][]vg.Length{nil, {vg.Points(6), vg.Points(3)}, {vg.Points(2), vg.Points(2)}, {vg.Points(8), vg.Points(3), vg.Points(2), vg.Points(3)}}

func colorOf(i int) color.RGBA   { return palette[i%len(palette)] }
func dashesOf(i int) []vg.Length { return dashes[(i/len(palette))%len(dashes)] }
func faded(c color.RGBA, a uint8) color.Color {
	// Premultiplied alpha, as color.RGBA requires.
	f := func(v uint8) uint8 { return uint8(uint16(v) * uint16(a) / 255) }
	return color.RGBA{f(c.R), f(c.G), f(c.B), a}
}

// newPlot is a plot with the toolkit's fonts and labels.
func newPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font.Size = vg.Points(11)
		a.Tick.Label.Font.Size = vg.Points(9)
	}
	return p
}

// legendEntry is one line of a legend drawn outside the data area.
type legendEntry struct {
	name  string
	thumb plot.Thumbnailer
}

// drawWithLegend draws p, with the legend (if any) in a column to the right
// of the plot so that it never covers data.
func drawWithLegend(c draw.Canvas, p *plot.Plot, entries []legendEntry) {
	// A margin keeps the title and the last tick label off the edges.
	m := vg.Points(6)
	c = draw.Crop(c, m, -m, m, -m)
	if len(entries) == 0 {
		fitTitle(p, c.Max.X-c.Min.X)
		p.Draw(c)
		return
	}
	l := plot.NewLegend()
	l.TextStyle.Font = font.From(plot.DefaultFont, vg.Points(10))
	l.Top, l.Left = true, true
	l.Padding = vg.Points(3)
	for _, e := range entries {
		l.Add(e.name, e.thumb)
	}
	r := l.Rectangle(c)
	gap := vg.Points(8)
	width := r.Max.X - r.Min.X + gap
	if max := (c.Max.X - c.Min.X) / 3; width > max {
		width = max
	}
	pc := c
	pc.Max.X -= width
	fitTitle(p, pc.Max.X-pc.Min.X)
	p.Draw(pc)
	lc := c
	lc.Min.X = pc.Max.X + gap
	// Start the legend level with the top of the data area.
	top := vg.Points(10)
	if p.Title.Text != "" {
		top += p.Title.TextStyle.Height(p.Title.Text) + p.Title.Padding
	}
	lc.Max.Y -= top
	l.Draw(lc)
}

// fitTitle sets a title wider than width smaller, down to 7 pt.
func fitTitle(p *plot.Plot, width vg.Length) {
	t := p.Title.Text
	if t == "" {
		return
	}
	for p.Title.TextStyle.Font.Size > vg.Points(7) && p.Title.TextStyle.Width(t) > width {
		p.Title.TextStyle.Font.Size -= vg.Points(0.5)
	}
}
