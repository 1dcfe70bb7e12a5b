// Package plots draws the toolkit's figures and keeps the numbers behind
// them. Every experiment calls it; the API is three figure kinds and one
// table type:
//
//   - LineChart: series of (x, y) points, each with an optional error
//     (a shaded band or error bars), a legend, axis labels and a title;
//     e.g. accuracy against samples seen, or a trait over generations.
//   - BarChart: grouped bars with error bars, e.g. the mean train/test
//     accuracy per data set (category) and network (group), with the
//     spread over re-trainings as the error.
//   - ImageGrid: grayscale images (any H x W, e.g. 28 x 28) in a grid with
//     a caption under each, e.g. originals next to adversarial images.
//
// Save(base, fig) writes base.png and base.svg from one call, each
// atomically (a temporary file in the same folder, then a rename), so a
// reader never sees half a figure. Table, WriteCSV and ReadCSV keep the
// numbers behind a figure as a CSV file (a header row, then rows of the
// same width); LineChart.Table and BarChart.Table give them in long form.
//
// Bad input (no series, mismatched lengths, negative errors, NaN
// coordinates, rows of the wrong width) is reported as an error naming the
// series, group, image or row, never drawn.
package plots
