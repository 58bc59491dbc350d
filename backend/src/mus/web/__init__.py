"""The web player (`/`) and the operator's view (`/admin`): static pages over the HTTP API."""
