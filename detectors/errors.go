package detectors

import "errors"

// Sentinel errors of the package; callers test them with errors.Is.
var (
	// ErrNoNetworks: an --internal list holds no network at all.
	ErrNoNetworks = errors.New("no network given")
	// ErrUnknownKey: a statistics key (--by) that Top does not know.
	ErrUnknownKey = errors.New("unknown key")
	// ErrUnknownOrder: a statistics order (--order) that Top does not know.
	ErrUnknownOrder = errors.New("unknown order")
)
