"""The benchmark harness (``make bench``): the gateway, a floor and a peer, side by side on the same mocks."""
