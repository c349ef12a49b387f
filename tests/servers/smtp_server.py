#!/usr/bin/python3
"""A scripted SMTP server for tests (RELIABILITY "smtpd"): python3-aiosmtpd on 127.0.0.1.

Records every received message as DIR/msg-N.eml (the DATA as received, CRLF) and every command
it saw (EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA) as one line in DIR/commands.log.

  --port N              listen port
  --dir DIR             where messages and the command log go
  --cert PEM --key PEM  offer STARTTLS with this certificate (require it before AUTH)
  --smtps               implicit TLS on the port instead of STARTTLS (needs --cert/--key)
  --auth USER:PASS      require AUTH with these credentials
  --rcpt-reply TEXT     answer every RCPT with TEXT (e.g. "451 4.3.0 try later")
  --data-reply TEXT     answer DATA (after the message) with TEXT (e.g. "554 5.7.1 no")
  --data-delay SECONDS  wait this long after the message before answering DATA (a stalled server)
  --greeting-reply TEXT greet every connection with TEXT instead of 220 and close it (e.g.
                        "421 4.3.2 service not available", a server shutting down)

Prints "READY <port>" on stderr once it accepts connections.
"""
import argparse
import asyncio
import ssl
import sys
import time
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Recorder:
    def __init__(self, out: Path, rcpt_reply, data_reply, data_delay):
        self.out = out
        self.rcpt_reply = rcpt_reply
        self.data_reply = data_reply
        self.data_delay = data_delay
        self.count = 0

    def log(self, line: str) -> None:
        with open(self.out / "commands.log", "a", encoding="utf-8") as f:
            f.write(line + "\n")

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.log(f"EHLO {hostname}")
        session.host_name = hostname
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.log(f"MAIL {address}")
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.log(f"RCPT {address}")
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.log("DATA")
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        if self.data_reply:
            return self.data_reply
        self.count += 1
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        (self.out / f"msg-{self.count}.eml").write_bytes(data)
        (self.out / f"msg-{self.count}.env").write_text(
            envelope.mail_from + "\n" + "\n".join(envelope.rcpt_tos) + "\n", encoding="utf-8")
        return "250 Message accepted for delivery"


def refuse_at_greeting(port: int, reply: str, handler: Recorder) -> int:
    async def greet(reader, writer):
        handler.log("GREETING " + reply)
        writer.write(reply.encode() + b"\r\n")
        await writer.drain()
        writer.close()

    async def serve():
        server = await asyncio.start_server(greet, "127.0.0.1", port)
        print(f"READY {port}", file=sys.stderr, flush=True)
        async with server:
            await server.serve_forever()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass
    return 0


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--smtps", action="store_true")
    p.add_argument("--auth")
    p.add_argument("--rcpt-reply")
    p.add_argument("--data-reply")
    p.add_argument("--data-delay", type=float, default=0)
    p.add_argument("--greeting-reply")
    a = p.parse_args()
    out = Path(a.dir)
    out.mkdir(parents=True, exist_ok=True)
    handler = Recorder(out, a.rcpt_reply, a.data_reply, a.data_delay)
    if a.greeting_reply:
        return refuse_at_greeting(a.port, a.greeting_reply, handler)

    tls = None
    if a.cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(a.cert, a.key)

    kwargs = {}
    if a.auth:
        user, password = a.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            handler.log(f"AUTH {mechanism}")
            ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user
                  and auth_data.password.decode() == password)
            return AuthResult(success=ok, handled=False)

        # With implicit TLS aiosmtpd does not know the session is encrypted (it tracks STARTTLS).
        kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=not a.smtps)
    else:
        kwargs.update(auth_require_tls=False)

    if a.smtps:
        controller = Controller(handler, hostname="127.0.0.1", port=a.port, ssl_context=tls,
                                server_hostname="localhost", **kwargs)
    else:
        if tls is not None:
            kwargs.update(tls_context=tls, require_starttls=True)
        controller = Controller(handler, hostname="127.0.0.1", port=a.port, **kwargs)
    controller.start()
    print(f"READY {a.port}", file=sys.stderr, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
