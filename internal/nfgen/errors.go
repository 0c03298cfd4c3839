package nfgen

import "errors"

// Sentinel errors; the returned errors wrap them with what and where.
var (
	// ErrTemplate: a template definition the version cannot carry (id
	// below 256, no fields, length 0, v9 enterprise or variable field).
	ErrTemplate = errors.New("nfgen: bad template")
	// ErrUnknownTemplate: data or a template set names a template the
	// exporter has not defined.
	ErrUnknownTemplate = errors.New("nfgen: template not defined")
	// ErrValue: a record value does not fit its field exactly (too large,
	// finer than the field's time unit, wrong address family).
	ErrValue = errors.New("nfgen: value does not fit its field")
	// ErrVersion: the operation does not exist in the exporter's version
	// (templates in v5, withdrawal in v9), or the version is not 5, 9, 10.
	ErrVersion = errors.New("nfgen: not possible in this version")
	// ErrTooLarge: a packet beyond what a UDP datagram or the export
	// header can carry.
	ErrTooLarge = errors.New("nfgen: packet too large")
	// ErrAddress: datagram source and destination of different families,
	// or invalid.
	ErrAddress = errors.New("nfgen: bad datagram address")
)
