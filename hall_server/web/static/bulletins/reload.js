// The public board on the hall screen: reload every five minutes (no inline handlers: CSP).
setTimeout(function () { window.location.reload(); }, 5 * 60 * 1000);
