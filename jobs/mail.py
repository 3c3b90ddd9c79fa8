"""Sending e-mail."""
from . import job


@job
def send_email(to, subject, body):
    from villageaid.mail import deliver

    deliver(to, subject, body)
