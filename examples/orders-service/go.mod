module example.com/orders-service

go 1.24

require (
	go.uber.org/zap v1.27.0
	k8s.io/apimachinery v0.31.0
	k8s.io/client-go v0.31.0
	sigs.k8s.io/controller-runtime v0.19.0
)
