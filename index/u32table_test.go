package index

import (
	"math/rand/v2"
	"testing"
)

// TestU32Table checks the table against a Go map through puts, gets,
// growth and resets.
func TestU32Table(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	tab := newU32Table(2)
	for round := range 20 {
		want := map[uint32]int32{}
		n := rng.IntN(5000)
		for i := range n {
			k := rng.Uint32N(uint32(2*n + 1))
			if round%3 == 0 {
				k <<= 8 // keys alike in their low bits, as addresses of one /24
			}
			if _, ok := tab.get(k); ok != (want[k] != 0) {
				t.Fatalf("round %d: get(%d) present %v", round, k, ok)
			}
			if want[k] == 0 {
				tab.put(k, int32(i))
				want[k] = int32(i) + 1
			}
		}
		if tab.len() != len(want) {
			t.Fatalf("round %d: %d keys, want %d", round, tab.len(), len(want))
		}
		for k, v := range want {
			if got, ok := tab.get(k); !ok || got != v-1 {
				t.Fatalf("round %d: get(%d) = %d %v, want %d", round, k, got, ok, v-1)
			}
		}
		tab.reset()
		for k := range want {
			if _, ok := tab.get(k); ok {
				t.Fatalf("round %d: %d still present after reset", round, k)
			}
		}
	}
}
