package controller

import "k8s.io/apimachinery/pkg/types"

type orderEvent struct {
	Order types.NamespacedName
	Phase string
}

// countByPhase forgets to make its map: the first write panics.
func countByPhase(events []orderEvent) map[string]int {
	var counts map[string]int
	for _, e := range events {
		counts[e.Phase]++
	}
	return counts
}

// lastPhases writes one map from many goroutines without a lock:
// fatal error: concurrent map writes.
func lastPhases(events []orderEvent) map[types.NamespacedName]string {
	last := make(map[types.NamespacedName]string)
	done := make(chan struct{})
	for _, e := range events {
		go func(e orderEvent) {
			last[e.Order] = e.Phase
			done <- struct{}{}
		}(e)
	}
	for range events {
		<-done
	}
	return last
}
