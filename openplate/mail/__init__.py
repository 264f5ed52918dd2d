"""E-mail: messages queued in the database with what caused them, and sent by a worker.

- ``letters``: what the site mails (plain text and HTML, links from the public URL);
- ``queue.send_later``: queue a letter inside the caller's unit of work;
- ``worker``: sends due mail with retries and backoff, in every server process;
- ``transport``: an SMTP server (``OPENPLATE_SMTP_URL``), or the ``openplate-mail/`` folder;
- ``notify``: the "your account changed" notices other parts send.
"""
