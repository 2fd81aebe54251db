# The runtime image of ../../Dockerfile, from binaries built on the host
# (deploy/image/build-prebuilt.sh makes the context: bin/ and runtime-setup.sh).
ARG RUNTIME_IMAGE=debian:bookworm-slim
FROM ${RUNTIME_IMAGE}
COPY runtime-setup.sh /tmp/runtime-setup.sh
RUN sh /tmp/runtime-setup.sh && rm /tmp/runtime-setup.sh
COPY bin/ /usr/local/bin/
USER mdm
WORKDIR /var/lib/mdm
CMD ["mdmctl", "--help"]
