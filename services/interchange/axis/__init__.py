"""The national document interchange axis (VDXP): the HTTP client of spec §3.

Its test peer is the simulator in `peers/axis_sim`, which the product never imports."""
