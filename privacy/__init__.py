"""A fan's own data: the export (GDPR Art. 15 and 20), account deletion (Art. 17) and the
retention purge. Services take a Session, may flush, never commit."""
