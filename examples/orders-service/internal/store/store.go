// Package store keeps orders in memory and serves them over HTTP.
package store

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"go.uber.org/zap"
	"k8s.io/apimachinery/pkg/types"
)

type Order struct {
	UID    types.UID `json:"uid"`
	Status string    `json:"status"`
}

// OrderIndex is the in-memory index of orders by UID.
type OrderIndex map[types.UID]*Order

type Store struct {
	mu     sync.Mutex
	orders *OrderIndex
	logger *zap.Logger
}

func New() *Store {
	return &Store{
		// The incident: a pointer to a nil map. The first write panics.
		orders: new(OrderIndex),
		logger: zap.NewExample(),
	}
}

func (s *Store) Handle(w http.ResponseWriter, r *http.Request) {
	var o Order
	if err := json.NewDecoder(r.Body).Decode(&o); err != nil {
		// The error's type and stack are lost as a string.
		s.logger.Error("bad order", zap.String("error", err.Error()))
		http.Error(w, "bad order", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	(*s.orders)[o.UID] = &o
	s.mu.Unlock()
	w.WriteHeader(http.StatusCreated)
}

// AdminServer serves the admin endpoints; it bounds writes and idle
// connections but not the request headers (slowloris).
func AdminServer(h http.Handler) *http.Server {
	return &http.Server{
		Addr:         ":9090",
		Handler:      h,
		WriteTimeout: 10 * time.Second,
		IdleTimeout:  time.Minute,
	}
}
