# vbatch in a container, for clusters that run images (deploy/k8s/) until the package is on the
# npm registry: docker build -t <registry>/vbatch:<version> . (see docs/deploy.md). Checked against
# package.json by test/dockerfile.test.ts; its build steps run for real in CI (.ci/run).

# Build: dev dependencies, the TypeScript build, and better-sqlite3's native addon, which needs a
# compiler when no prebuilt binary can be downloaded. Both stages are Debian 12 (bookworm), so the
# addon links against the same glibc it runs with. 20.20.2 is the Node.js release CI tests with.
FROM node:20.20.2-bookworm-slim AS build
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# Scripts off: `prepare` would build before the sources are here; better-sqlite3's is run next.
RUN npm ci --ignore-scripts
RUN npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/mark-bin.mjs ./scripts/
COPY src ./src
RUN npm run build
RUN npm prune --omit=dev
RUN mkdir -p bin && ln -s ../dist/cli/bin.js bin/vbatch

# Runtime: Node.js, production dependencies and the build, run as the image's unprivileged user.
FROM node:20.20.2-bookworm-slim
ENV NODE_ENV=production
WORKDIR /opt/vbatch
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY LICENSE README.md ./
COPY examples ./examples
ENV PATH=/opt/vbatch/bin:$PATH
USER node
WORKDIR /data
ENTRYPOINT ["vbatch"]
CMD ["--help"]
