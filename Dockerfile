# arbor's image: arbor as PID 1 of a tree that holds nothing but arbor's own
# files (see README, "In a container").
#
#   podman build -t arbor .          (or docker build)
#   podman run --rm --name tree arbor
#   podman exec tree arborctl call counter increment
#
# Your own tree: COPY it to /etc/arbor/arbor.ini in an image FROM this one,
# or COPY --from=arbor /sbin/arbor /sbin/arbor into yours: the binaries are
# static and need nothing from the image.

# ---- build: Debian, the static binaries, the image's root ----
FROM docker.io/library/debian:bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev make pkg-config \
	libinih-dev libcap-ng-dev binutils \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make clean && make all && make rootfs ROOTFS=/rootfs

# ---- the image: arbor, arborctl, the example workers and tree ----
FROM scratch
COPY --from=build /rootfs/ /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# arbor with no argument runs $ARBOR_CONFIG, else /etc/arbor/arbor.ini
ENTRYPOINT ["/sbin/arbor"]
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s CMD ["/usr/bin/arborctl", "ping"]
