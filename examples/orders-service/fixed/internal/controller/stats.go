package controller

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"
)

type orderEvent struct {
	Order types.NamespacedName
	Phase string
}

// countByPhase makes its map before writing.
func countByPhase(events []orderEvent) map[string]int {
	counts := make(map[string]int, len(events))
	for _, e := range events {
		counts[e.Phase]++
	}
	return counts
}

// lastPhases guards the shared map with a mutex.
func lastPhases(events []orderEvent) map[types.NamespacedName]string {
	var mu sync.Mutex
	var wg sync.WaitGroup
	last := make(map[types.NamespacedName]string)
	for _, e := range events {
		wg.Add(1)
		go func(e orderEvent) {
			defer wg.Done()
			mu.Lock()
			last[e.Order] = e.Phase
			mu.Unlock()
		}(e)
	}
	wg.Wait()
	return last
}
