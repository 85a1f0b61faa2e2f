"""EKP-2 window evaluator keypads (评价按键), datasheet: shared/protocols/evaluator-keypad-ekp2.md.

codec        bytes <-> frames <-> typed requests/replies (pure)
link         one request/reply exchange: timeout, tries, bus silence (the transaction layer)
session      the host side of one bus: wanted state per keypad, polling, events up (KeypadSession)
tracking     the session's per-keypad bookkeeping and public records (KeypadState, KeypadInfo)
sim_device   one simulated keypad (device logic, time passed in)
sim_bus      many simulated keypads on one line: framing, addressing, reply timing, noise, pacing
simulator    the simulated bus behind a pty, with thread-safe control methods
sim_transport  the simulated bus as a pyserial-like transport on a virtual clock (tests)
control      the simulator's control lines (press, reboot, silent, slow, noise, status)
"""
