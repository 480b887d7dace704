// Package store is Gale's durable cluster state.
package store
