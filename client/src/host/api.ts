// The host page's HTTP client for /api/v1: same-origin fetch with the login cookie,
// problem+json errors turned into ApiError with the server's stable code.
import type { ErrorCode, ErrorParams, ErrorReason, Issue } from '../../../server/contract/errors';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode | 'network',
    message: string,
    readonly details: unknown = undefined,
    /** What the pages say (../ui/errors.ts renders them). */
    readonly reason?: ErrorReason,
    readonly params?: ErrorParams,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The input problems, when the details are a list of them. */
  get issues(): Issue[] | undefined {
    const d = this.details;
    return Array.isArray(d) && d.every((i) => typeof i === 'object' && i !== null && 'issue' in i)
      ? (d as Issue[])
      : undefined;
  }
}

export const API = '/api/v1';

export async function call<T>(
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
  opts: { contentType?: string; raw?: BodyInit } = {},
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(API + path, {
      method,
      credentials: 'same-origin',
      headers: {
        Accept: 'application/json',
        ...(body !== undefined || opts.raw ? { 'Content-Type': opts.contentType ?? 'application/json' } : {}),
      },
      body: opts.raw ?? (body !== undefined ? JSON.stringify(body) : undefined),
    });
  } catch {
    throw new ApiError(0, 'network', 'Không kết nối được máy chủ · Cannot reach the server');
  }
  if (res.status === 204) return undefined as T;
  const data = (await res.json().catch(() => undefined)) as
    { code?: ErrorCode; detail?: string; errors?: unknown; reason?: ErrorReason; params?: ErrorParams } | undefined;
  // An import with bad rows answers its report with 422: a result, not a failure.
  if (!res.ok && res.status !== 422) {
    throw new ApiError(
      res.status,
      data?.code ?? 'internal',
      data?.detail ?? res.statusText,
      data?.errors,
      data?.reason,
      data?.params,
    );
  }
  return data as T;
}

export const qs = (params: Record<string, string | number | undefined>) => {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
};
