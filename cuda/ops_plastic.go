package cuda

// AddGroup computes y = x + b with group g's vector b[g] (n elements)
// added to each of its E rows: x and y are G x E x n, b is G x n.
func (c *Context) AddGroup(G, E, n int, x, b, y *Array) error {
	if err := checkLens("pl_add_group", need{"x", x.N, G * E * n}, need{"b", b.N, G * n}, need{"y", y.N, G * E * n}); err != nil {
		return err
	}
	return c.linear("pl_add_group", y.N, i32(G), i32(E), i32(n), x.Ptr(), b.Ptr(), y.Ptr())
}

// CountOKGroup adds to counts[g] the number of group g's E flags that are
// 0 (right predictions); flags is G x E.
func (c *Context) CountOKGroup(G, E int, flags, counts *Array) error {
	if err := checkLens("pl_count_ok_group", need{"flags", flags.N, G * E}, need{"counts", counts.N, G}); err != nil {
		return err
	}
	return c.linear("pl_count_ok_group", G, i32(G), i32(E), flags.Ptr(), counts.Ptr())
}
