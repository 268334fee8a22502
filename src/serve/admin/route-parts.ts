import { LarderError } from '../../errors.ts';
import type { Access } from '../auth.ts';

/** Route config: what access each admin route needs (reads browse, actions change things). */
export const READ: { readonly access: Access } = { access: 'read' };
export const ADMIN: { readonly access: Access } = { access: 'admin' };

const limit = { type: 'integer', minimum: 1, maximum: 500, default: 50 } as const;

/** Querystring properties of a paged list: by offset (catalog) or by cursor (jobs, dead letters). */
export const pageQuery = {
  offset: { limit, offset: { type: 'integer', minimum: 0, default: 0 } },
  cursor: (name: string) => ({ limit, [name]: { type: 'string', maxLength: 200 } }),
} as const;

/** The part a server without it cannot show (no batch job store, no stream history). */
export function unavailable(what: string): LarderError {
  return new LarderError('LARDER_ERR_ADMIN_UNAVAILABLE', `this server does not show ${what}`);
}
