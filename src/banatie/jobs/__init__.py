"""Work that outlives a request: async and batch generations on a durable job queue."""
