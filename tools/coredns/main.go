// CoreDNS with only the plugins the test node's cluster DNS uses: the cluster zone from
// the API (kubernetes) on one address (bind), a cache, health and readiness endpoints and
// error logging. The stock binary links every plugin (cloud DNS providers and all); this
// is CoreDNS's own coremain with a shorter plugin list, the way CoreDNS documents
// building it with a chosen set of plugins.
package main

import (
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/ready"
)

func main() {
	coremain.Run()
}
