"""Live collaboration: change notification, the SSE stream with catch-up, presence and locks."""
