"""The job broker as a server: what it is, which version, whether mus's queues can run on it."""
