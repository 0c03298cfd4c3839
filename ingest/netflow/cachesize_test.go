package netflow

import (
	"net/netip"
	"testing"
)

func wideFields(n int) []Field {
	fs := make([]Field, n)
	for i := range fs {
		fs[i] = Field{ID: uint16(1000 + i), Length: 1}
	}
	return fs
}

// The cache's serialised size is bounded by MaxBytes: templates beyond
// it are refused as ErrTooManyTemplates, a changed definition may grow
// only within it, a withdrawn one gives its room back, and the size kept
// is the serialised one.
func TestTemplateCacheMaxBytes(t *testing.T) {
	exp := Exporter{Addr: netip.MustParseAddr("192.0.2.1"), Port: 4739}
	c := NewTemplateCache()
	fields := wideFields(MaxTemplateFields)
	one := templateSize(TemplateKey{Exporter: exp}, MaxTemplateFields)
	learned, refused := 0, 0
	for i := range 7000 {
		k := TemplateKey{Exporter: exp, Domain: uint32(i / 1000), ID: uint16(256 + i%1000), Version: 10}
		switch _, r := c.learn(k, false, 0, fields); r {
		case reasonNone:
			learned++
		case ErrTooManyTemplates:
			refused++
		default:
			t.Fatalf("template %d: %v", i, r)
		}
	}
	if want := DefaultMaxBytes / one; learned != want || refused != 7000-want || c.Size() != want*one {
		t.Errorf("learned %d, refused %d, size %d; want %d, %d, %d", learned, refused, c.Size(), want, 7000-want, want*one)
	}
	b, _ := c.MarshalBinary()
	if len(b) != c.Size()+12 {
		t.Errorf("serialised %d bytes, size %d + 12", len(b), c.Size())
	}
	// Withdrawing one makes room for another.
	if !c.withdraw(TemplateKey{Exporter: exp, ID: 256, Version: 10}) {
		t.Fatal("withdraw")
	}
	if _, r := c.learn(TemplateKey{Exporter: exp, Domain: 99, ID: 256, Version: 10}, false, 0, fields); r != reasonNone {
		t.Errorf("after a withdrawal: %v", r)
	}
	// A new domain's options state needs room too.
	if s := c.domainForUpdate(DomainKey{exp, 5}); s != nil && c.Size() > DefaultMaxBytes {
		t.Errorf("domain made beyond MaxBytes: size %d", c.Size())
	}
}

// A store written before MaxBytes may hold a larger cache: it is read
// (not refused, which would stop every later ingest), the templates beyond
// the limit are left out and counted.
func TestTemplateCacheUnmarshalBeyondMaxBytes(t *testing.T) {
	exp := Exporter{Addr: netip.MustParseAddr("192.0.2.1"), Port: 4739}
	old := NewTemplateCache()
	old.MaxBytes = 1 << 30
	fields := wideFields(MaxTemplateFields)
	for i := range 7000 {
		k := TemplateKey{Exporter: exp, Domain: uint32(i / 1000), ID: uint16(256 + i%1000), Version: 10}
		if _, r := old.learn(k, false, 0, fields); r != reasonNone {
			t.Fatal(r)
		}
	}
	old.domainForUpdate(DomainKey{exp, 6}).defInterval = 100
	b, _ := old.MarshalBinary()
	c := NewTemplateCache()
	if err := c.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	fit := DefaultMaxBytes / templateSize(TemplateKey{Exporter: exp}, MaxTemplateFields)
	if c.Len() != fit || c.Dropped() != 7000-fit || c.Size() > DefaultMaxBytes || len(c.Domains()) != 1 {
		t.Errorf("got %d templates, %d dropped, size %d, %d domains; want %d, %d, within %d, 1 (its room is left)",
			c.Len(), c.Dropped(), c.Size(), len(c.Domains()), fit, 7000-fit, DefaultMaxBytes)
	}
	// The first in key order are kept.
	if c.Get(TemplateKey{Exporter: exp, Domain: 0, ID: 256, Version: 10}) == nil {
		t.Error("first template left out")
	}
}
