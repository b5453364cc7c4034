# The monitor's image: `cdi worker` by default; every other `cdi` command works as the argument.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY services services
COPY schemas schemas
RUN pip wheel --no-cache-dir --wheel-dir /wheels '.[rocksdb]'

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 cdi
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER cdi
WORKDIR /home/cdi
# Made here, owned by cdi: a named volume mounted on a path the image lacks is created owned by
# root, and the worker could not write its RocksDB files to it.
RUN mkdir -p /home/cdi/data
# Production defaults: listen for Prometheus on every interface, the live clock, RocksDB state.
# Binding 0.0.0.0 is acceptable only because the worker's HTTP server (cdi.stream.http) serves
# nothing but /metrics, /healthz and /readyz: Faust's own web server, whose /table/ pages serve
# case records, is off. Never expose the port beyond the scrape network.
ENV CDI_METRICS_HOST=0.0.0.0 \
    CDI_CLOCK=live \
    CDI_STORE=rocksdb \
    CDI_DATA_DIR=/home/cdi/data
EXPOSE 6066
# No HEALTHCHECK here: the image also runs one-shot commands (topics, replay). The worker's
# liveness is GET /healthz and its readiness GET /readyz (deploy/docker-compose.yml checks /healthz).
ENTRYPOINT ["cdi"]
CMD ["worker"]
