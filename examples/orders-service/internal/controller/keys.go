// Package controller watches orders in the cluster.
package controller

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/tools/cache"
)

// orderKeyFunc keys objects by name only: two orders with the same name in
// different namespaces overwrite each other in the store.
func orderKeyFunc(obj interface{}) (string, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return "", fmt.Errorf("object has no meta: %w", err)
	}
	return m.GetName(), nil
}

func newOrderStore() cache.Store {
	return cache.NewStore(orderKeyFunc)
}
