"""HTTP plumbing with no music in it: Range, conditional GETs, file responses, SSE, multipart."""
