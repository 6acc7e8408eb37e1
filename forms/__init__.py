"""HTML forms as Flask-WTF classes, one module per audience: accounts, comments, moderation,
editor, admin (users and match-day windows). Choices come from the enums, limits from the
services' constants; `templates/_forms.html` renders them."""
