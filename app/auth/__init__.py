"""Access control: accounts, sessions, API tokens, CSRF, the permission table and its guard."""
