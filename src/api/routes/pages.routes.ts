import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';
import helmet from 'helmet';

export interface PageOptions {
  publicUrl: string;
  realtimeUrl: string;
  /** True against real Twitch; the simulator has no player or chat to embed. */
  embeds: boolean;
}

const PUBLIC_DIR = fileURLToPath(new URL('../../public', import.meta.url));
const HASHED = /-[A-Z0-9]{8}\.(js|css)$/;
/** Source maps are never served (the build keeps them out of public/ too): they are for operators. */
const SOURCE_MAP = /\.map$/i;

const wsOrigin = (url: string) => new URL(url).origin.replace(/^http/, 'ws');

/**
 * Security headers for everything, a strict Content-Security-Policy (no inline script or
 * style), the built page with `no-cache`, and its content-hashed assets cached for a year.
 */
export function pageRoutes(options: PageOptions): Router {
  const router = Router();
  const realtime = new URL(options.realtimeUrl).origin;
  router.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:', 'https://static-cdn.jtvnw.net'],
          frameSrc: ['https://player.twitch.tv', 'https://www.twitch.tv'],
          connectSrc: [
            "'self'",
            realtime,
            wsOrigin(options.realtimeUrl),
            wsOrigin(options.publicUrl),
          ],
          objectSrc: ["'none'"],
          baseUri: ["'self'"],
          frameAncestors: ["'none'"],
          upgradeInsecureRequests: options.publicUrl.startsWith('https://') ? [] : null,
        },
      },
      strictTransportSecurity: options.publicUrl.startsWith('https://'),
    }),
  );
  router.get('/api/config', (_req, res) => {
    res
      .set('cache-control', 'no-cache')
      .json({ embeds: options.embeds, parent: new URL(options.publicUrl).hostname });
  });
  router.get(['/', '/index.html'], (_req, res) => {
    res.set('cache-control', 'no-cache').sendFile(path.join(PUBLIC_DIR, 'index.html'));
  });
  const assets = express.static(PUBLIC_DIR, {
    index: false,
    setHeaders: (res, file) => {
      res.setHeader(
        'cache-control',
        HASHED.test(file) ? 'public, max-age=31536000, immutable' : 'public, max-age=3600',
      );
    },
  });
  router.use((req, res, next) => {
    if (SOURCE_MAP.test(req.path)) next();
    else assets(req, res, next);
  });
  return router;
}
