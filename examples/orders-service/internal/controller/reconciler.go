package controller

import (
	"context"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
)

// OrderReconciler remembers the last status it saw per order. Reconciles
// run concurrently, and nothing guards the map.
type OrderReconciler struct {
	lastSeen map[types.NamespacedName]string
}

func (r *OrderReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	r.lastSeen[req.NamespacedName] = "seen"
	return ctrl.Result{}, nil
}

// NewClient keeps client-go's default QPS 5 / Burst 10.
func NewClient() (*kubernetes.Clientset, error) {
	cfg, err := rest.InClusterConfig()
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}
