"""The demo hall (tools, not the product): `python -m demo` runs it, `demo.traffic` simulates the
people in it, `demo.printed_slips` reads the slips its printer simulators printed."""
