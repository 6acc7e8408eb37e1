"""Unbound extension instances; create_app binds them."""

from flask_limiter import Limiter
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from security import client_ip

login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=client_ip, default_limits=[], headers_enabled=True)
