# syntax=docker/dockerfile:1
# An image that runs a tributary app with `tributary run`, tributary built from this checkout:
#   docker build -t orders .                                   # the example app of docker/app
#   docker build -t my-app --build-arg APP_DIR=apps/mine .     # a folder with your app.ts (and package.json)
#   docker run --rm -e AWS_REGION=eu-west-1 -p 9400:9400 orders
# Each stage is plain RUN lines a test can replay outside Docker: the build stage is `npm ci` then
# `npm pack` (its prepack builds dist/), the runtime stage is docker/install.sh in the app's folder.

FROM node:20-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm pack --pack-destination /pkg
RUN mv /pkg/tributary-*.tgz /pkg/tributary.tgz

FROM node:20-slim
ARG APP_DIR=docker/app
ENV NODE_ENV=production \
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true \
    PATH=/app/node_modules/.bin:$PATH
WORKDIR /app
COPY docker/install.sh /usr/local/bin/tributary-install
COPY --from=build /pkg/tributary.tgz /tmp/tributary.tgz
COPY ${APP_DIR}/ /app/
# Installed as root and left owned by root: the user the app runs as cannot change its code.
RUN tributary-install /tmp/tributary.tgz /app
RUN rm /tmp/tributary.tgz && npm cache clean --force
# The image's `node` user, by number, so that Kubernetes' runAsNonRoot can check it is not root.
USER 1000:1000
# /livez, /readyz, /metrics and the status page (TRIBUTARY_PORT, or --port, changes it).
EXPOSE 9400
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.TRIBUTARY_PORT || 9400}/livez`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form: tributary is the container's process 1 itself, not a shell's child, so the SIGTERM of
# `docker stop` (or of ECS and Kubernetes) reaches it and starts its graceful stop.
ENTRYPOINT ["tributary", "run"]
CMD ["app.ts"]
