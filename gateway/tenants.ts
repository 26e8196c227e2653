/**
 * Tenants in the gateway: every token belongs to one, and a tenant's clients see only its results.
 * Input ids are unique per tenant, so routing and waits key on (tenant, id). Pure.
 */

/** The tenant of tokens created without `--tenant`, of version-1 token files, and of events that carry none. */
export const DEFAULT_TENANT = 'default';
/** The tenant scope of a token with the `admin` scope: every tenant's results. */
export const ALL_TENANTS = '*';

/** The tenant an event or result belongs to (`null`: written without one, e.g. by `trident produce`). */
export function tenantOf(record: { tenant?: string | null }): string {
  return record.tenant ?? DEFAULT_TENANT;
}

/** The routing key of an input id within its tenant. NUL cannot occur in a tenant name. */
export function routeKey(tenant: string, id: string): string {
  return `${tenant}\u0000${id}`;
}
