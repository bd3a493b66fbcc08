"""Domain services: the only place where rules live and domain state changes."""
