// Command orders is the clean twin of ../../cmd/orders: same service, no
// red lines crossed.
package main

import (
	"context"
	"errors"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"go.uber.org/zap"

	"example.com/orders-service/fixed/internal/store"
)

func main() {
	// GOMAXPROCS comes from the container spec (resourceFieldRef) or from
	// `redline exec`, never from os.Setenv.
	logger, _ := zap.NewProduction()
	defer logger.Sync()

	orders := store.New(logger)
	mux := http.NewServeMux()
	mux.HandleFunc("/orders", orders.Handle)

	srv := &http.Server{
		Addr:              ":8080",
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	logger.Info("orders listening", zap.String("addr", srv.Addr))
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Fatal("server failed", zap.Error(err))
	}
}
