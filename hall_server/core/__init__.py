"""The hall server's core: the hub (one writer, the state map, the readers), the message handlers'
foundation, the store and its migrations, the hall secret and its signed tokens, the export pump,
and the backend the web side calls. Below it: `hall_server.domain` (the rules); beside it:
`hall_server.transport` (the bus) and `hall_server.web` (HTTP)."""
