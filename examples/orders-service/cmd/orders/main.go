// Command orders serves the order API and runs the order controller.
// It crosses several production red lines on purpose: see ../../fixed for
// the same service written to pass `redline check`.
package main

import (
	"log"
	"net/http"
	"os"

	"example.com/orders-service/internal/store"
)

func main() {
	// Tuning the runtime from inside the process races with every reader of
	// the environment.
	if os.Getenv("GOMAXPROCS") == "" {
		os.Setenv("GOMAXPROCS", "4")
	}

	orders := store.New()
	mux := http.NewServeMux()
	mux.HandleFunc("/orders", orders.Handle)

	log.Printf("orders listening on :8080")
	// A zero http.Server: no read, write or idle timeouts.
	log.Fatal(http.ListenAndServe(":8080", mux))
}
