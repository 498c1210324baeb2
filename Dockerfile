# Multi-stage build of the hub for production (PostgreSQL by environment).
# Untested here: no Docker engine runs where the hub is developed (see README "Running in
# production"; tests/edge/test_production_start.py runs the same sequence without Docker).
# Build: docker build -t satu-pintu-hub .
# Keys:  hub keys init ./keys && sudo chown -R 10001 ./keys      (once, on the host)
# Run:   docker run -v "$PWD/keys:/run/hub-keys:ro" \
#          -e HUB_DATABASE_URL=postgresql+asyncpg://user:pass@db/hub \
#          -e HUB_REDIS_URL=redis://redis:6379/0 -e HUB_METRICS_TOKEN=... \
#          -p 8000:8000 satu-pintu-hub
# compose.yaml runs it with PostgreSQL and Redis.
FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/hub
COPY pyproject.toml README.md requirements-prod.lock ./
# The pinned versions (with hashes), then the hub itself without resolving anything again.
RUN /opt/hub/bin/pip install --no-cache-dir --require-hashes -r requirements-prod.lock
COPY hub ./hub
COPY policies ./policies
COPY schema/operations/manifest.json ./schema/operations/manifest.json
RUN /opt/hub/bin/pip install --no-cache-dir --no-deps .
# GraphiQL's assets are package data (served by the hub, no CDN): fail the build without them.
RUN /opt/hub/bin/python -c "from hub.graphql.graphiql import missing_assets as m; assert not m(), m()"

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 hub
COPY --from=build /opt/hub /opt/hub
ENV PATH=/opt/hub/bin:$PATH \
    HUB_ENV=production \
    HUB_HOST=0.0.0.0 \
    HUB_PORT=8000 \
    HUB_VAR_DIR=/home/hub/var \
    HUB_SIGNING_KEY_FILE=/run/hub-keys/signing-key.pem \
    HUB_AUDIT_KEY_FILE=/run/hub-keys/audit-key.pem \
    HUB_AUDIT_PEPPER_FILE=/run/hub-keys/audit-pepper
USER hub
WORKDIR /home/hub
EXPOSE 8000
# Ready means the database answers (/readyz), not only that the process is up.
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/readyz').status == 200 else 1)"
# Migrations first (idempotent), then serve: the README's production sequence.
CMD ["sh", "-c", "hub db upgrade && exec hub serve"]
