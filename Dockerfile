# Builds the UI, the Go binary, and a runtime image with MongoDB Database
# Tools (mongodump/mongorestore) installed.
FROM node:20-bookworm AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
COPY --from=web /src/web/dist ./web/dist
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/backupd ./cmd/backupd

FROM debian:bookworm-slim
ARG MONGO_TOOLS=https://fastdl.mongodb.org/tools/db/mongodb-database-tools-debian12-x86_64-100.10.0.deb
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
 && curl -fsSL -o /tmp/tools.deb "$MONGO_TOOLS" && apt-get install -y /tmp/tools.deb && rm /tmp/tools.deb \
 && rm -rf /var/lib/apt/lists/* && useradd -r -u 10001 backupd && mkdir -p /data && chown backupd /data
COPY --from=build /out/backupd /usr/local/bin/backupd
USER backupd
ENV BACKUPD_DATA_DIR=/data BACKUPD_SPOOL_DIR=/data/spool
EXPOSE 8080
ENTRYPOINT ["backupd"]
CMD ["serve"]
