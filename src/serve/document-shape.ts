import type {
  DocumentNode,
  FragmentDefinitionNode,
  OperationDefinitionNode,
  SelectionSetNode,
} from 'graphql';
import { Kind } from './graphql-runtime.ts';

/**
 * How big a GraphQL operation is once its fragments are spread, measured on the document in time
 * linear in its size, whatever the fragments expand to: each fragment is measured once (per
 * introspection context) and its measure reused wherever it is spread. Ten lines of fragments that
 * each spread the next one twice expand to a million fields; they are measured in ten steps.
 */
export interface OperationShape {
  /** The deepest path of ordinary fields (`user { recent { article { title } } }` is 4). */
  readonly depth: number;
  /** The deepest path through an introspection field (`__schema`, `__type`, `__typename`). */
  readonly introspection: number;
  /** Fields selected, counting a fragment's fields at every place it is spread. */
  readonly fields: number;
}

const EMPTY: OperationShape = { depth: 0, introspection: 0, fields: 0 };

/** Measures the operations of one document; fragment measures are shared between them. */
export class DocumentShape {
  readonly #fragments = new Map<string, FragmentDefinitionNode>();
  readonly #measured = new Map<string, OperationShape>();
  readonly #visiting = new Set<string>();
  /** The first fragment found spreading itself (directly or through others), if any. */
  cycle: string | undefined;

  constructor(document: DocumentNode) {
    for (const def of document.definitions) {
      if (def.kind === Kind.FRAGMENT_DEFINITION) this.#fragments.set(def.name.value, def);
    }
  }

  operation(node: OperationDefinitionNode): OperationShape {
    return this.#set(node.selectionSet, false);
  }

  /** The largest of each measure over every operation of the document. */
  static ofDocument(document: DocumentNode): OperationShape & { cycle: string | undefined } {
    const shape = new DocumentShape(document);
    let depth = 0;
    let introspection = 0;
    let fields = 0;
    for (const def of document.definitions) {
      if (def.kind !== Kind.OPERATION_DEFINITION) continue;
      const measured = shape.operation(def);
      depth = Math.max(depth, measured.depth);
      introspection = Math.max(introspection, measured.introspection);
      fields = Math.max(fields, measured.fields);
    }
    return { depth, introspection, fields, cycle: shape.cycle };
  }

  #set(set: SelectionSetNode, inIntrospection: boolean): OperationShape {
    let depth = 0;
    let introspection = 0;
    let fields = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        const intro = inIntrospection || selection.name.value.startsWith('__');
        const child = selection.selectionSet === undefined ? EMPTY : this.#set(selection.selectionSet, intro);
        fields += 1 + child.fields;
        if (intro) introspection = Math.max(introspection, 1 + Math.max(child.depth, child.introspection));
        else {
          depth = Math.max(depth, 1 + child.depth);
          if (child.introspection > 0) introspection = Math.max(introspection, 1 + child.introspection);
        }
        continue;
      }
      const child =
        selection.kind === Kind.INLINE_FRAGMENT
          ? this.#set(selection.selectionSet, inIntrospection)
          : this.#spread(selection.name.value, inIntrospection);
      depth = Math.max(depth, child.depth);
      introspection = Math.max(introspection, child.introspection);
      fields += child.fields;
    }
    return { depth, introspection, fields };
  }

  #spread(name: string, inIntrospection: boolean): OperationShape {
    const key = `${inIntrospection ? '1' : '0'}${name}`;
    const known = this.#measured.get(key);
    if (known !== undefined) return known;
    const fragment = this.#fragments.get(name);
    // An unknown fragment is graphql's own validation error; a cycle is reported by `cycle`.
    if (fragment === undefined) return EMPTY;
    if (this.#visiting.has(name)) {
      this.cycle ??= name;
      return EMPTY;
    }
    this.#visiting.add(name);
    const measured = this.#set(fragment.selectionSet, inIntrospection);
    this.#visiting.delete(name);
    this.#measured.set(key, measured);
    return measured;
  }
}
