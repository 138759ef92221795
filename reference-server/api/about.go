package api

import "github.com/slotrush/slotrush/models"

// About is the body of GET /api/v1/about: what a booking server states
// about itself, so that a load generator reports it beside its figures
// instead of guessing. The call is optional for servers other than the
// reference server. Every field is optional: an absent (zero) field is not
// stated, and a reader must show nothing for it.
type About struct {
	// Design is the name of the server's partitioning design, e.g.
	// "per-ppv-day" or "per-ppv+waiting-room".
	Design string `json:"design,omitempty"`
	// Scheme is how slots map to partitions.
	Scheme models.Scheme `json:"scheme,omitempty"`
	// Partitions is the number of partitions of the store.
	Partitions int `json:"partitions,omitempty"`
	// Limits are the limits of each partition; zero rates and bounds are
	// unlimited, and nil is not stated.
	Limits *models.Limits `json:"limits_per_partition,omitempty"`
	// WaitingRoom says whether a waiting room fronts the booking API
	// (POST /api/v1/queue); nil is not stated.
	WaitingRoom *bool `json:"waiting_room,omitempty"`
	// Store describes the storage behind the API.
	Store AboutStore `json:"store,omitzero"`
}

// AboutStore is the storage part of About. Every field is optional.
type AboutStore struct {
	// Engine names the store and how it is laid out, e.g. "sqlite, one file
	// per partition, WAL".
	Engine string `json:"engine,omitempty"`
	// Version is the engine's version.
	Version string `json:"version,omitempty"`
	// Durability says what a booking answered 201 survives, e.g. "kill -9
	// and power loss (fsync before the answer)".
	Durability string `json:"durability,omitempty"`
}

// Stated reports whether a states anything at all: a server that answers
// GET /api/v1/about with an empty object states nothing.
func (a *About) Stated() bool {
	return a.Design != "" || a.Scheme != "" || a.Partitions != 0 || a.Limits != nil ||
		a.WaitingRoom != nil || a.Store != AboutStore{}
}
