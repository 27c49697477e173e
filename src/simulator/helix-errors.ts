import type { Response } from 'express';

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  429: 'Too Many Requests',
};

/** Helix's error body: `{"error":"Bad Request","status":400,"message":"..."}`. */
export function helixError(res: Response, status: number, message: string): void {
  res.status(status).json({ error: REASONS[status] ?? 'Error', status, message });
}
