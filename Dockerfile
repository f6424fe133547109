# pixelk6's container image, with the entrypoint contract of k6's image (grafana/k6):
# the program is the entrypoint (`docker run IMAGE run script.js`), the user is the
# unprivileged uid 12345 in /home/k6, and `k6` on the PATH is pixelk6, because the
# k6-operator calls `k6 archive`, `k6 inspect` and `k6 run` in the runner image through
# `sh -c` (so the image keeps Alpine's shell). k6verdict is in the image too, to read the
# runners' outputs where they were written.
#
#   docker build -t pixelk6:0.1.0 .
#   docker run --rm -v "$PWD:/home/k6/work" pixelk6:0.1.0 run work/script.js

FROM --platform=$BUILDPLATFORM golang:1.26-alpine AS builder
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG TARGETOS TARGETARCH
# Static binaries: no cgo, so they run on any Linux base.
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -ldflags="-s -w" -o /out/ ./cmd/pixelk6 ./cmd/k6verdict

FROM alpine:3.22 AS release
RUN adduser -D -u 12345 -g 12345 k6
COPY --from=builder /out/pixelk6 /out/k6verdict /usr/bin/
RUN ln -s pixelk6 /usr/bin/k6
USER 12345
WORKDIR /home/k6
ENTRYPOINT ["pixelk6"]
