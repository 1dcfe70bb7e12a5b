package plots

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// Table is a CSV table: a header row and rows of the same width.
type Table struct {
	Header []string
	Rows   [][]string
}

// NewTable returns an empty table with the given column names.
func NewTable(header ...string) *Table { return &Table{Header: header} }

// Append adds a row. Cells are formatted as: float64 with the fewest digits
// that read back to the same number, integers in decimal, strings as they
// are, anything else with fmt.Sprint. It fails if the row's width differs
// from the header's.
func (t *Table) Append(cells ...any) error {
	if len(cells) != len(t.Header) {
		return fmt.Errorf("plots: row %d has %d cells for %d columns %q", len(t.Rows)+1, len(cells), len(t.Header), t.Header)
	}
	row := make([]string, len(cells))
	for i, c := range cells {
		switch v := c.(type) {
		case float64:
			row[i] = formatFloat(v)
		case float32:
			row[i] = strconv.FormatFloat(float64(v), 'g', -1, 32)
		case string:
			row[i] = v
		default:
			row[i] = fmt.Sprint(v)
		}
	}
	t.Rows = append(t.Rows, row)
	return nil
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// Column returns the cells of the named column.
func (t Table) Column(name string) ([]string, error) {
	for j, h := range t.Header {
		if h == name {
			col := make([]string, len(t.Rows))
			for i, r := range t.Rows {
				if j >= len(r) {
					return nil, fmt.Errorf("plots: row %d has %d cells, no column %q", i+1, len(r), name)
				}
				col[i] = r[j]
			}
			return col, nil
		}
	}
	return nil, fmt.Errorf("plots: no column %q in %q", name, t.Header)
}

// Floats returns the named column parsed as numbers; an empty cell is an
// error.
func (t Table) Floats(name string) ([]float64, error) {
	col, err := t.Column(name)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(col))
	for i, s := range col {
		if out[i], err = strconv.ParseFloat(s, 64); err != nil {
			return nil, fmt.Errorf("plots: column %q row %d: %q is not a number", name, i+1, s)
		}
	}
	return out, nil
}

func (t Table) check() error {
	if len(t.Header) == 0 {
		return fmt.Errorf("table has no header")
	}
	for i, r := range t.Rows {
		if len(r) != len(t.Header) {
			return fmt.Errorf("row %d has %d cells for %d columns", i+1, len(r), len(t.Header))
		}
	}
	return nil
}

// WriteCSV writes t to path (temporary file, then rename), creating the
// folder if needed.
func WriteCSV(path string, t Table) error {
	if err := t.check(); err != nil {
		return fmt.Errorf("plots: %s: %w", path, err)
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(t.Header); err != nil {
		return fmt.Errorf("plots: %s: %w", path, err)
	}
	if err := w.WriteAll(t.Rows); err != nil {
		return fmt.Errorf("plots: %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	return writeAtomic(path, &buf)
}

// ReadCSV reads a table written by WriteCSV (or any CSV file whose first row
// is the header and whose rows all have the header's width).
func ReadCSV(path string) (Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return Table{}, fmt.Errorf("plots: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	recs, err := r.ReadAll()
	if err != nil {
		return Table{}, fmt.Errorf("plots: %s: %w", path, err)
	}
	if len(recs) == 0 {
		return Table{}, fmt.Errorf("plots: %s: empty file, want a header row", path)
	}
	t := Table{Header: recs[0], Rows: recs[1:]}
	if t.Rows == nil {
		t.Rows = [][]string{}
	}
	return t, nil
}
