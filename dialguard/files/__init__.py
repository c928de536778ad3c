"""Files the gate writes: durable writes (fsync, atomic replace), their modes, and key files."""
