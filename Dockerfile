# swcompany in a container: docker build -t swcompany . &&
#   docker run --rm -e OPENAI_API_KEY -v "$PWD/workspace:/work/workspace" swcompany new "a CLI todo app"
FROM python:3.11-slim

RUN apt-get update \
    && apt-get install -y --no-install-recommends git bubblewrap \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
COPY prompts ./prompts
COPY templates ./templates
# EXTRAS="[serve]" for the API and workers of docker-compose.yml.
ARG EXTRAS=""
RUN pip install --no-cache-dir ".${EXTRAS}" && rm -rf /src

RUN useradd --create-home --uid 10001 swcompany \
    && mkdir -p /data/workspaces && chown swcompany /data/workspaces
USER swcompany
WORKDIR /work
ENTRYPOINT ["swcompany"]
CMD ["--help"]
