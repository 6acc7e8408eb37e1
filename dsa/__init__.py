"""DSA notice-and-action (art. 16, 17, 20) and the transparency export (art. 24)."""
