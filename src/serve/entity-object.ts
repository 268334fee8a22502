/**
 * An entity as GraphQL sees it: its id and the static features read for it as own properties, so
 * static fields resolve by plain property access (no resolver call per field).
 */
export type EntityObject = { id: string } & Record<string, unknown>;
