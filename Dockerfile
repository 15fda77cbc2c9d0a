# The guard worker image. `docker compose up` builds it; by hand:
#   docker build -t disclosure-guard:local .
#
# Two stages: the build stage installs the package (not editable) and its
# dependencies into a virtualenv; the runtime stage copies only that
# virtualenv, so build tooling and the source tree never reach the image.

FROM python:3.11-slim AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

RUN python -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml ./
COPY guard ./guard
RUN /opt/venv/bin/pip install .


FROM python:3.11-slim

LABEL org.opencontainers.image.title="disclosure-guard" \
      org.opencontainers.image.description="Keeps custody events about people protected by 8 U.S.C. 1367 off a public notification feed."

# The codec looks for the Avro schemas next to the source tree unless
# GUARD_SCHEMA_DIR says otherwise; an installed package has no source tree.
# The metrics endpoint must listen on every interface to be reachable through
# a published port. The data directory is a tmpfs in docker-compose.yml.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    GUARD_SCHEMA_DIR=/app/schemas \
    GUARD_DATA_DIR=/var/lib/guard \
    GUARD_METRICS_HOST=0.0.0.0 \
    GUARD_METRICS_PORT=9108

# A fixed, numeric, unprivileged uid: secrets mounted into the container must
# be readable by it, and orchestrators can check "not root" without a passwd.
RUN groupadd --system --gid 10001 guard \
 && useradd --system --uid 10001 --gid 10001 --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin guard \
 && mkdir -p /var/lib/guard \
 && chown 10001:10001 /var/lib/guard

COPY --from=build /opt/venv /opt/venv
COPY schemas /app/schemas
WORKDIR /app

USER 10001:10001
EXPOSE 9108

ENTRYPOINT ["guard"]
CMD ["worker"]
