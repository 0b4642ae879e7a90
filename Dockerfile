# syntax=docker/dockerfile:1
# ./kafka in a minimal image: a Node stage builds the executable (bun comes
# from npm as a devDependency), then the runtime stage is FROM scratch plus
# exactly the tree container/rootfs.sh lays out: the executable, the shared
# libraries `ldd` lists with the loader, /tmp and a libc.so link (for bun:ffi's
# TinyCC, which compiles the SSE4.2 CRC-32C at start-up; without them the
# broker falls back to the table CRC), and /data for the log dir.
# test/container.test.ts chroots into that same tree as uid 65532, with no /etc,
# /dev or environment, and proves the broker serves kcat and stops on SIGTERM
# with exit 0: what the test needed is what this image holds, nothing more.
# The container runtime supplies /proc (Bun aborts without /proc/self/maps).
#
#   docker build -t kafka .
#   docker run -p 9092:9092 -v kafka-data:/data kafka
#   docker run -p 9092:9092 -v kafka-data:/data -v $PWD/server.properties:/etc/kafka/server.properties:ro \
#     kafka /etc/kafka/server.properties --override advertised.listeners=PLAINTEXT://broker.example:9092

# The build stage's Debian release must match the libraries it copies out: they
# are the ones the executable runs with.
FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json bunfig.toml ./
COPY src ./src
COPY container ./container
RUN npm run build && sh container/rootfs.sh ./kafka /rootfs

FROM scratch AS runtime
COPY --from=build /rootfs/ /
# COPY resets ownership to root: the log dir must belong to the broker's user
# (a new named volume takes its owner from here)
COPY --from=build --chown=65532:65532 /rootfs/data/ /data/
# numeric: the image has no /etc/passwd, and needs none
USER 65532:65532
VOLUME ["/data"]
EXPOSE 9092
# Exec form: /kafka is PID 1 and gets SIGTERM from `docker stop` itself; the
# broker handles it (stop accepting, finish in-flight requests, flush, exit 0).
# The default listeners=PLAINTEXT://:9092 binds every interface; the advertised
# host then defaults to localhost, right for `-p 9092:9092` from the host; tell
# other clients with --override advertised.listeners=PLAINTEXT://host:port.
# log.dirs is set here, not in CMD, so it holds when arguments are given; a
# later --override log.dirs=... still wins.
ENTRYPOINT ["/kafka", "--override", "log.dirs=/data"]
