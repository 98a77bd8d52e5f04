"""Email through the tenant's SMTP server (aiosmtplib): STARTTLS, implicit TLS or plain. A
timeout, a dropped connection or a 4xx answer is worth a retry; a 5xx refusal is not."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from server.notices.providers import TIMEOUT, Message, SendFailed


async def send(config: dict, message: Message, timeout: float = TIMEOUT) -> str:
    """`config`: host, port, security (starttls | tls | none), user, password (decrypted), sender."""
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = config["sender"], message.to, message.subject
    mail.set_content(message.body)
    security = config["security"]
    try:
        _refused, answer = await aiosmtplib.send(
            mail,
            hostname=config["host"],
            port=config["port"],
            username=config["user"] or None,
            password=config["password"] or None,
            use_tls=security == "tls",
            start_tls=security == "starttls",
            timeout=timeout,
        )
    except aiosmtplib.SMTPResponseException as exc:
        raise SendFailed(f"SMTP {exc.code} {exc.message}"[:300], retry=400 <= exc.code < 500) from None
    except (aiosmtplib.SMTPTimeoutError, TimeoutError):
        raise SendFailed(f"邮件服务器超时（{timeout:g} 秒无应答）", retry=True) from None
    except aiosmtplib.SMTPException as exc:
        raise SendFailed(f"无法连接邮件服务器：{type(exc).__name__}", retry=True) from None
    except OSError as exc:
        raise SendFailed(f"无法连接邮件服务器：{type(exc).__name__}", retry=True) from None
    return f"SMTP {answer}"[:300]
