package index

// u32Table maps uint32 keys (IPv4 addresses) to int32 values for the
// encoders' per-block and per-segment dictionaries: open addressing with
// linear probing, a multiplicative hash, and a reset that clears only the
// slots in use. On the ingest path it costs about half of a Go map lookup.
type u32Table struct {
	keys  []uint32
	vals  []int32 // value + 1; 0: empty slot
	used  []uint32
	shift uint
}

func newU32Table(sizeLog2 uint) *u32Table {
	t := &u32Table{}
	t.init(sizeLog2)
	return t
}

func (t *u32Table) init(sizeLog2 uint) {
	t.keys = make([]uint32, 1<<sizeLog2)
	t.vals = make([]int32, 1<<sizeLog2)
	t.used = t.used[:0]
	t.shift = 32 - sizeLog2
}

func (t *u32Table) slot(k uint32) uint32 { return (k * 0x9E3779B1) >> t.shift }

// get returns the value of k.
func (t *u32Table) get(k uint32) (int32, bool) {
	mask := uint32(len(t.keys) - 1)
	for i := t.slot(k); ; i = (i + 1) & mask {
		v := t.vals[i]
		if v == 0 {
			return 0, false
		}
		if t.keys[i] == k {
			return v - 1, true
		}
	}
}

// put sets the value of k, which must not be in the table.
func (t *u32Table) put(k uint32, v int32) {
	if 2*(len(t.used)+1) > len(t.keys) {
		t.grow()
	}
	mask := uint32(len(t.keys) - 1)
	i := t.slot(k)
	for t.vals[i] != 0 {
		i = (i + 1) & mask
	}
	t.keys[i], t.vals[i] = k, v+1
	t.used = append(t.used, i)
}

func (t *u32Table) grow() {
	keys, vals, used := t.keys, t.vals, t.used
	t.init(uint(32-t.shift) + 1)
	for _, i := range used {
		t.put(keys[i], vals[i]-1)
	}
}

// reset empties the table, keeping its size.
func (t *u32Table) reset() {
	for _, i := range t.used {
		t.vals[i] = 0
	}
	t.used = t.used[:0]
}

// len is the number of keys.
func (t *u32Table) len() int { return len(t.used) }
