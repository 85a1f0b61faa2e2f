"""80 mm ESC/POS receipt printers on a serial port, a USB printer device or a network port (9100).

blocks      what a receipt is made of (Line, Qr, Feed)
escpos      ESC/POS bytes: init, GB18030 Chinese mode, bold/size/align, native QR, cut
receipts    layouts: the rating Slip and the queue Ticket
decoder     ESC/POS bytes back to documents (the simulator's side)
port        the host side: print bytes/slips/tickets, ask the printer's status (DLE EOT 1, 2, 4)
simulator   a printer behind a pty or a TCP port that decodes what it receives
"""
