"""Polls: creation, scheduling, voting, results."""
