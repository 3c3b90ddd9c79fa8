"""Remake the README screenshots: a freshly seeded demo site in Chromium, each page in Chinese and English.

    .venv/bin/python docs/screenshots/make_screenshots.py            # own demo site, temporary DATA_DIR
    .venv/bin/python docs/screenshots/make_screenshots.py --base-url http://127.0.0.1:5077

Without --base-url the script upgrades and seeds a demo database in a temporary folder and serves it
on a free port in a thread, so nothing in instance/ is touched. Chromium is Debian's (/usr/bin/chromium),
driven by Playwright as in tests/browser/conftest.py; a CJK font (fonts-noto-cjk) must be installed,
or Chinese renders as boxes. PNGs are 1280 px wide, cut at MAX_HEIGHT and reduced to 256 colours.
"""
import argparse
import logging
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

OUT = Path(__file__).resolve().parent
ROOT = OUT.parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
WIDTH, HEIGHT, MAX_HEIGHT = 1280, 900, 1500
DEMO_PASSWORD = "demo-pass-2026"

# (file name, path, demo account to sign in as or None)
SHOTS = [
    ("home", "/", None),
    ("needs", "/needs", None),
    ("register-organization", "/helpers/new", "donor@demo.villageaid.cn"),
    ("curate", "/curate", "curator@demo.villageaid.cn"),
    ("honor-roll", "/honor-roll", None),
    ("spot-checks", "/spot-checks", None),
]
LANGUAGES = {"zh": "zh_CN", "en": "en"}


def demo_site():
    """Upgrade and seed a demo database in a temporary DATA_DIR and serve it; returns (url, stop)."""
    data_dir = tempfile.mkdtemp(prefix="villageaid-shots-")
    os.environ["DATA_DIR"] = data_dir
    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    from villageaid import create_app

    app = create_app({"DATA_DIR": data_dir})
    with app.app_context():
        upgrade()
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    if result.exit_code != 0:
        sys.exit(f"demo seed failed:\n{result.output}")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def stop():
        server.shutdown()
        shutil.rmtree(data_dir, ignore_errors=True)

    return f"http://127.0.0.1:{server.server_port}", stop


def sign_in(page, base, email):
    page.goto(f"{base}/auth/login?lang=zh_CN")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(lambda url: "/auth/login" not in url)


def save(png_bytes, path):
    """Cut to MAX_HEIGHT and store as a 256-colour PNG (a tenth of the size, text stays crisp)."""
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(png_bytes)).convert("RGB")
    if image.height > MAX_HEIGHT:
        image = image.crop((0, 0, image.width, MAX_HEIGHT))
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(path, optimize=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", help="a running, seeded demo site (default: start one)")
    args = parser.parse_args()
    if not os.path.exists(CHROMIUM):
        sys.exit("Debian's chromium is needed: apt-get install -y chromium fonts-noto-cjk")

    base, stop = (args.base_url.rstrip("/"), lambda: None) if args.base_url else demo_site()
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"],
            )
            for name, path, account in SHOTS:
                context = browser.new_context(locale="zh-CN", viewport={"width": WIDTH, "height": HEIGHT})
                page = context.new_page()
                page.set_default_timeout(15000)
                if account:
                    sign_in(page, base, account)
                for suffix, lang in LANGUAGES.items():
                    page.goto(f"{base}{path}?lang={lang}")
                    page.wait_for_load_state("networkidle")
                    target = OUT / f"{name}.{suffix}.png"
                    save(page.screenshot(full_page=True), target)
                    print(f"{target.relative_to(ROOT)}  {target.stat().st_size // 1024} KB")
                context.close()
            browser.close()
    finally:
        stop()


if __name__ == "__main__":
    main()
