"""The document interchange axes: the national one (VDXP), the HTTP client of spec §3, and a
provincial LGSP (spec §3.7), both behind the `Mailbox` the delivery pipeline uses.

Their test peer is the simulator in `peers/axis_sim`, which the product never imports."""
