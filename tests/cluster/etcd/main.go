// Command etcd runs the etcd v3.6 server (go.etcd.io/etcd/server/v3/etcdmain) for the admission
// tests' throwaway control plane. Test infrastructure only.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
