"""The hall server's bus: ROUTER/PUB sockets with CURVE (`bus`), their limits and framing
(`sockets`), and the per-node quotas (`quotas`)."""
