"""Accounts: registration, login, passwords, roles and editor API tokens."""
