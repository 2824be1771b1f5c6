# One image for the three apps; docker-compose picks the app with APP.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# The whole tree before `npm ci`: the npm workspaces (libs/*/package.json) must exist when installing.
COPY . .
RUN npm ci && npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0
# V8 heap sized for a service (each uses about 40 MB live), not for the host: without a limit V8
# derives one from the host's memory and lets the heap fill to about 4x the live data between full
# collections, so RSS swings by 100 MB and more. Raise it with NODE_OPTIONS if a service needs more.
ENV NODE_OPTIONS=--max-old-space-size=512
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/apps/auth-service/migrations ./apps/auth-service/migrations
COPY --from=build /app/apps/profile-service/migrations ./apps/profile-service/migrations
COPY --from=build /app/package.json ./package.json
ARG APP=api-gateway
ENV APP=${APP}
# Only auth-service keeps secrets on disk (its development key and secrets, outside production), in a
# folder only its user can read; the other apps' images have no /keys at all.
RUN if [ "$APP" = auth-service ]; then install -d -o node -g node -m 700 /keys; fi
USER node
CMD ["sh", "-c", "exec node dist/apps/${APP}/main.js"]
