"""Mock upstreams: an order service, a carrier service and an after-sales service, over real HTTP."""
