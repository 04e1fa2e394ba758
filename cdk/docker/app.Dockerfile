# The app image: the backend's NATS workers (server/workers/main.ts), bundled with esbuild.
# Built from the repository root and pushed to the app repository with the release version:
#
#   docker build -f cdk/docker/app.Dockerfile \
#     --build-arg OPERATOR_KEYS=config/operator-keys.prod -t "$REPO:$VERSION" .
#   docker push "$REPO:$VERSION"
#
# The workers stack runs `node --enable-source-maps dist/workers.mjs` (WORKERS_COMMAND) as the
# `node` user on a read-only root file system.

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# No install scripts: nothing native is bundled into the workers.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npx esbuild server/workers/main.ts --bundle --platform=node --format=esm --target=node20 \
      --sourcemap --minify --main-fields=module,main --outfile=dist/workers.mjs \
      --banner:js="import { createRequire as __vettidCreateRequire } from 'node:module'; const require = __vettidCreateRequire(import.meta.url);"

FROM node:20-bookworm-slim
# The operators' pinned control keys (public), read through VETTID_OPERATOR_KEYS_FILE.
ARG OPERATOR_KEYS
WORKDIR /app
COPY --from=build /src/dist ./dist
COPY ${OPERATOR_KEYS} /app/config/operator-keys
USER node
CMD ["node", "--enable-source-maps", "dist/workers.mjs"]
