import type { ASTVisitor, FieldNode, ValidationContext, ValidationRule } from 'graphql';
import { larderGraphQLError } from './limits.ts';

/**
 * A validation rule refusing schema introspection (`__schema`, `__type`) when `serve.introspection`
 * is off. `__typename` stays allowed: it tells a client what it got, not what the schema holds.
 */
export const introspectionOffRule: ValidationRule = (context: ValidationContext): ASTVisitor => ({
  Field(node: FieldNode) {
    const name = node.name.value;
    if (name !== '__schema' && name !== '__type') return;
    context.reportError(
      larderGraphQLError(
        'LARDER_ERR_INTROSPECTION_OFF',
        `introspection is off on this server; the query asks for "${name}"`,
        { field: name },
        [node],
      ),
    );
  },
});

/**
 * `serve.introspection` from `LARDER_GRAPHQL_INTROSPECTION` when the caller gives none: on unless
 * the variable says off (`0`, `off`, `false`, `no`).
 */
export function introspectionFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  const raw = env['LARDER_GRAPHQL_INTROSPECTION']?.trim().toLowerCase();
  return !(raw === '0' || raw === 'off' || raw === 'false' || raw === 'no');
}
