# syntax=docker/dockerfile:1
# Build stage: install the locked dependencies into a virtualenv.
FROM python:3.12-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /venv
COPY requirements/base.lock /tmp/base.lock
RUN /venv/bin/pip install --require-hashes -r /tmp/base.lock

# Runtime stage: the virtualenv and the code, run as an unprivileged user.
FROM python:3.12-slim
ENV PATH="/venv/bin:$PATH" PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 APP_ENV=production PORT=8000
# uvicorn trusts X-Forwarded-* from the proxy in front.
ENV FORWARDED_ALLOW_IPS="*"
RUN useradd --create-home --uid 10001 app
WORKDIR /srv
COPY --from=build /venv /venv
COPY --chown=app:app app ./app
COPY --chown=app:app migrations ./migrations
COPY --chown=app:app alembic.ini ./
RUN mkdir -p /srv/data && chown app:app /srv/data
USER app
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz')"
# Migrations first (idempotent), then the API on PORT; `python -m app serve` runs uvicorn with
# proxy headers and the service's JSON logs from its first line.
CMD ["sh", "-c", "python -m app migrate && exec python -m app serve --host 0.0.0.0"]
