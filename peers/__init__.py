"""Test peers: simulations of the systems outside the platform that the platform talks to.

Nothing here is product code. A peer stands in for the external world in tests, benchmarks and
`make run`; services never import from this package (and a peer imports no service: it must
disagree with our code wherever our code is wrong)."""
