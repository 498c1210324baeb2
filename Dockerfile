# Multi-stage build of the hub for production (PostgreSQL by environment).
# Build: docker build -t satu-pintu-hub .
# Run:   docker run -e HUB_DATABASE_URL=postgresql+asyncpg://user:pass@db/hub \
#                   -e HUB_ENV=production -p 8000:8000 satu-pintu-hub
FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/hub
COPY pyproject.toml README.md requirements-prod.lock ./
# The pinned versions (with hashes), then the hub itself without resolving anything again.
RUN /opt/hub/bin/pip install --no-cache-dir --require-hashes -r requirements-prod.lock
COPY hub ./hub
COPY policies ./policies
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
    HUB_VAR_DIR=/home/hub/var
USER hub
WORKDIR /home/hub
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz').status == 200 else 1)"
# Migrations run as a separate step (`hub db upgrade`) before a new version serves.
CMD ["hub", "serve"]
