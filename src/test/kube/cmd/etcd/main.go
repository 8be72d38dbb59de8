// Command etcd is the etcd server, built from go.etcd.io/etcd/server/v3 so the test
// suite can run a real API server without downloading release archives.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
