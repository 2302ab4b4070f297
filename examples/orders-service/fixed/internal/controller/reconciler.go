package controller

import (
	"context"
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
)

// OrderReconciler guards its shared state: reconciles run concurrently.
type OrderReconciler struct {
	mu       sync.Mutex
	lastSeen map[types.NamespacedName]string
}

func (r *OrderReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lastSeen == nil {
		r.lastSeen = make(map[types.NamespacedName]string)
	}
	r.lastSeen[req.NamespacedName] = "seen"
	return ctrl.Result{}, nil
}

// NewClient raises client-go's default rate limits before building clients.
func NewClient() (*kubernetes.Clientset, error) {
	cfg, err := rest.InClusterConfig()
	if err != nil {
		return nil, err
	}
	cfg.QPS = 50
	cfg.Burst = 100
	return kubernetes.NewForConfig(cfg)
}
