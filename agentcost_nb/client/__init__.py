"""Agent clients: A2A over JSON-RPC (and later chat completions), on httpx."""
