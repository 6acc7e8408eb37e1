"""The shipped deployment files: nginx accepts deploy/nginx.conf (`nginx -t`), with the TLS
pair and the cache directory swapped for the test's own; the units and the PgBouncer config
say what the README says."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

from tests.conftest import missing_service

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"


def nginx_binary() -> str | None:
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None


def test_nginx_accepts_the_shipped_site(tmp_path: Path) -> None:
    nginx = nginx_binary()
    if nginx is None:
        missing_service("nginx is not installed (apt-get install nginx)")
        return
    if shutil.which("openssl") is None:
        missing_service("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=tribune.example.be", "-keyout", str(key), "-out", str(cert),
        ],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    site = (DEPLOY / "nginx.conf").read_text()
    shipped_cert = "/etc/letsencrypt/live/tribune.example.be/fullchain.pem"
    shipped_key = "/etc/letsencrypt/live/tribune.example.be/privkey.pem"
    assert shipped_cert in site and shipped_key in site
    site = site.replace(shipped_cert, str(cert)).replace(shipped_key, str(key))
    site = site.replace("/var/cache/nginx/tribune", str(tmp_path / "cache"))
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path / 'nginx.pid'};\n"
        f"error_log {tmp_path / 'error.log'};\n"
        "events {}\n"
        "http {\n"
        f"    access_log off;\n    include {tmp_path / 'site.conf'};\n"
        "}\n"
    )
    checked = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    assert "syntax is ok" in checked.stderr


def test_nginx_site_caches_tallies_and_static_and_sets_the_proxy_headers() -> None:
    site = (DEPLOY / "nginx.conf").read_text()
    for line in (
        "location = /api/v1/tallies",
        "location /static/",
        "proxy_cache tribune;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "proxy_set_header X-Request-ID $request_id;",
        "ssl_certificate ",
    ):
        assert line in site, line
    assert site.count("server 127.0.0.1:80") >= 2  # several instances upstream


def test_pgbouncer_config_pools_transactions_and_the_units_run_tribune() -> None:
    ini = configparser.ConfigParser(inline_comment_prefixes=(";",))
    ini.read(DEPLOY / "pgbouncer.ini")
    assert ini["pgbouncer"]["pool_mode"] == "transaction"
    assert "tribune" in ini["databases"]
    web = (DEPLOY / "tribune-web.service").read_text()
    assert "gunicorn -c gunicorn.conf.py" in web and "EnvironmentFile=" in web
    worker = (DEPLOY / "tribune-worker.service").read_text()
    assert "flask --app app tribune worker" in worker
    readme = (ROOT / "README.md").read_text()
    for name in ("deploy/nginx.conf", "deploy/pgbouncer.ini", "deploy/tribune-web.service",
                 "deploy/tribune-worker.service", "prepare_threshold=none"):  # fmt: skip
        assert name in readme, name
