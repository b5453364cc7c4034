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
# Production defaults: listen for Prometheus on every interface, the live clock, RocksDB state.
ENV CDI_METRICS_HOST=0.0.0.0 \
    CDI_CLOCK=live \
    CDI_STORE=rocksdb \
    CDI_DATA_DIR=/home/cdi/data
EXPOSE 6066
ENTRYPOINT ["cdi"]
CMD ["worker"]
