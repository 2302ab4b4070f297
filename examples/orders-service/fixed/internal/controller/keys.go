// Package controller watches orders in the cluster.
package controller

import "k8s.io/client-go/tools/cache"

// Namespaced objects are keyed by namespace/name.
func newOrderStore() cache.Store {
	return cache.NewStore(cache.MetaNamespaceKeyFunc)
}
