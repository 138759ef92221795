# syntax=docker/dockerfile:1
#
# The slotrush image, which `slotrush k8s` runs (docs/DISTRIBUTED.md):
#
#   docker build --build-arg VERSION=$(git describe --tags --always) \
#     --build-arg COMMIT=$(git rev-parse --short HEAD) -t slotrush:$(git describe --tags --always) .
#
# Two stages. The build stage compiles with cgo, which the SQLite store
# (mattn/go-sqlite3, C) needs, dynamically linked against Debian 13's glibc.
# The final stage is distroless base-debian13: that same glibc, CA
# certificates (for https targets) and tzdata, no shell and no package
# manager. A dynamic binary on distroless base rather than a static one on
# scratch: linking glibc statically needs -tags netgo,osusergo (glibc's NSS
# cannot be linked in) and -linkmode external -extldflags -static, still
# warns about SQLite's dlopen, and scratch would need the CA certificates and
# tzdata copied in by hand. Keep the build stage's Debian release equal to
# the final one's, so the binary runs on the glibc it was linked against.
#
# It runs as distroless's nonroot user, 65532, which `slotrush k8s` also sets
# in its pods. The image has no shell: the pods of an Indexed Job run
# `slotrush k8s segment`, which turns the completion index into --segment.

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION}-trixie AS build
WORKDIR /src
COPY . .
ARG VERSION=dev
ARG COMMIT=
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=1 go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/slotrush ./cmd/slotrush

FROM gcr.io/distroless/base-debian13:nonroot
COPY --from=build /out/slotrush /usr/local/bin/slotrush
USER 65532:65532
WORKDIR /home/nonroot
ENTRYPOINT ["/usr/local/bin/slotrush"]
CMD ["--help"]
