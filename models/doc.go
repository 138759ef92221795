// Package models holds the slotrush domain — states, vaccination centres
// (PPVs), days, slots, bookings, people — and the partitioning designs that
// map a slot to the partition that stores it.
//
// One design definition serves both the live reference server and the
// discrete-event simulator, so this package imports only the standard library
// and knows nothing of storage or HTTP.
package models
