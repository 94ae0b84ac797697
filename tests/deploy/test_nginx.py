"""The shipped nginx site (deploy/nginx/gridgov.conf) passes `nginx -t` on Debian's nginx as a county's IT team
installs it: the site file, the proxy include and the Chinese 50x page at the paths the site names, a certificate
where the site looks for one. Debian 12's nginx 1.22 refused `http2 on;` (a 1.25.1 directive)."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "deploy" / "nginx" / "gridgov.conf"
PROXY = ROOT / "deploy" / "nginx" / "gridgov_proxy.conf"
ERRORS = ROOT / "deploy" / "errors" / "50x.html"

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
needs_nginx = pytest.mark.skipif(not Path(NGINX).exists(), reason="nginx is not installed (apt-get install nginx)")


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "grid.example.gov.cn")])
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=3650))
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "fullchain.pem", directory / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def _installed(tmp_path: Path, site_text: str) -> Path:
    """The site as installed: the absolute paths it names are moved under tmp_path; nothing else is changed."""
    cert, key = _self_signed(tmp_path)
    (tmp_path / "errors").mkdir()
    shutil.copy(ERRORS, tmp_path / "errors" / "50x.html")
    shutil.copy(PROXY, tmp_path / "gridgov_proxy.conf")
    site = (site_text.replace("/etc/ssl/gridgov/fullchain.pem", str(cert))
            .replace("/etc/ssl/gridgov/privkey.pem", str(key))
            .replace("/etc/nginx/gridgov_proxy.conf", str(tmp_path / "gridgov_proxy.conf"))
            .replace("/opt/gridgov/deploy/errors", str(tmp_path / "errors")))
    (tmp_path / "site.conf").write_text(site)
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {tmp_path};\n  proxy_temp_path {tmp_path};\n"
        f"  include /etc/nginx/mime.types;\n  include {tmp_path}/site.conf;\n}}\n")
    return main


def _nginx_t(conf: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NGINX, "-t", "-c", str(conf)], capture_output=True, text=True, timeout=30, check=False)


@needs_nginx
def test_shipped_site_passes_nginx_t(tmp_path: Path) -> None:
    result = _nginx_t(_installed(tmp_path, SITE.read_text()))
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr and "test is successful" in result.stderr


@needs_nginx
def test_nginx_t_refuses_what_debian_12_does_not_know(tmp_path: Path) -> None:
    """The check can fail: the directive that broke the shipped file on nginx 1.22 is refused here too (on an
    nginx that knows it, a misspelt directive stands in)."""
    version = subprocess.run([NGINX, "-v"], capture_output=True, text=True, check=False).stderr
    bad = "    http2 on;\n" if "nginx/1.22" in version else "    http2_bogus on;\n"
    anchor = "    server_name grid.example.gov.cn;\n"
    site = SITE.read_text().replace(anchor, anchor + bad, 1)
    result = _nginx_t(_installed(tmp_path, site))
    assert result.returncode != 0 and "unknown directive" in result.stderr


def test_the_50x_page_is_chinese_and_standalone() -> None:
    """nginx serves it with the app servers down: no stylesheet, script or image from the app."""
    html = ERRORS.read_text()
    assert '<html lang="zh-CN">' in html and "请过几分钟再试" in html
    assert "/static/" not in html and "<script" not in html and "<img" not in html
    site = SITE.read_text()
    assert "error_page 502 503 504 /50x.html;" in site and "location = /50x.html" in site
