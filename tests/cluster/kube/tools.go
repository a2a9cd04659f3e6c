//go:build tools

// Package kube pins the commands scripts/install-peers.sh builds from this module
// (go build k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl).
package kube

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
