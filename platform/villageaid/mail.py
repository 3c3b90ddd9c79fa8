"""Delivering e-mail: SMTP when MAIL_SERVER is set, else .eml files in DATA_DIR/outbox."""
import hashlib
import smtplib
from email.message import EmailMessage
from pathlib import Path

from flask import current_app


def build_message(to, subject, body):
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return message


def outbox_dir():
    path = Path(current_app.config["DATA_DIR"]) / "outbox"
    path.mkdir(parents=True, exist_ok=True)
    return path


def deliver(to, subject, body):
    """Send one message. Idempotent in the outbox: the same message writes the same file."""
    message = build_message(to, subject, body)
    config = current_app.config
    if config.get("MAIL_SERVER"):
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=20) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(message)
        return None
    digest = hashlib.sha256(f"{to}\0{subject}\0{body}".encode()).hexdigest()[:16]
    path = outbox_dir() / f"{digest}.eml"
    path.write_bytes(message.as_bytes())
    return path


def read_outbox():
    """(path, message) for every message in the local outbox, newest first (tests and demo)."""
    from email import policy
    from email.parser import BytesParser

    files = sorted(outbox_dir().glob("*.eml"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    return [(p, BytesParser(policy=policy.default).parsebytes(p.read_bytes())) for p in files]
