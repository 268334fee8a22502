import {
  autocompletion,
  closeBrackets,
  closeBracketsKeymap,
  completionKeymap,
} from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { bracketMatching, defaultHighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { EditorState } from '@codemirror/state';
import { EditorView, highlightActiveLine, keymap, lineNumbers } from '@codemirror/view';
import { graphql, updateSchema } from 'cm6-graphql';
import { buildClientSchema, getIntrospectionQuery, type IntrospectionQuery } from 'graphql';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { FeatureCatalog, FeatureDetail } from '../../../serve/admin/admin-types.ts';
import { api } from '../api.ts';
import { ErrorNote } from '../parts/status.tsx';

const DEFAULT_QUERY = `# The schema follows the registry: Ctrl-Space completes, Ctrl-Enter runs.
query {
  _registryVersion
}
`;

async function startingFeature(): Promise<[string, string] | undefined> {
  const named = new URLSearchParams(location.search).get('feature');
  const dot = named?.indexOf('.') ?? -1;
  if (named !== null && named !== undefined && dot > 0) return [named.slice(0, dot), named.slice(dot + 1)];
  const first = (await api<FeatureCatalog>('/v1/admin/features?limit=1')).items[0];
  return first === undefined ? undefined : [first.entity, first.name];
}

/**
 * The GraphQL playground: CodeMirror 6 with the live schema (introspected from this server, so
 * completion and linting follow the registry), variables, and the answer. Bundled with the
 * console: nothing is fetched from elsewhere.
 */
export function QueryPage() {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const [variables, setVariables] = useState('{}');
  const [answer, setAnswer] = useState('');
  const [error, setError] = useState<Error | undefined>(undefined);
  const [schemaNote, setSchemaNote] = useState('Loading the schema…');
  const [running, setRunning] = useState(false);
  const runRef = useRef<() => void>(() => undefined);

  const run = async (): Promise<void> => {
    const query = view.current?.state.doc.toString() ?? '';
    setRunning(true);
    setError(undefined);
    try {
      const vars = variables.trim() === '' ? {} : (JSON.parse(variables) as unknown);
      const result = await api<unknown>('/graphql', { method: 'POST', body: { query, variables: vars } });
      setAnswer(JSON.stringify(result, null, 2));
    } catch (err) {
      setAnswer('');
      setError(err as Error);
    } finally {
      setRunning(false);
    }
  };
  runRef.current = () => void run();

  useEffect(() => {
    if (host.current === null) return;
    const editor = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc: DEFAULT_QUERY,
        extensions: [
          lineNumbers(),
          history(),
          bracketMatching(),
          closeBrackets(),
          autocompletion(),
          highlightActiveLine(),
          syntaxHighlighting(defaultHighlightStyle),
          graphql(),
          keymap.of([
            { key: 'Mod-Enter', run: () => (runRef.current(), true) },
            ...closeBracketsKeymap,
            ...defaultKeymap,
            ...historyKeymap,
            ...completionKeymap,
          ]),
          EditorView.contentAttributes.of({
            'aria-label': 'GraphQL query',
            'aria-describedby': 'query-help',
          }),
        ],
      }),
    });
    view.current = editor;
    let stopped = false;
    api<{ data?: IntrospectionQuery }>('/graphql', {
      method: 'POST',
      body: { query: getIntrospectionQuery() },
    }).then(
      (result) => {
        if (stopped || result.data === undefined) return;
        const schema = buildClientSchema(result.data);
        updateSchema(editor, schema);
        const roots = Object.keys(schema.getQueryType()?.getFields() ?? {}).length;
        setSchemaNote(`Schema loaded: ${roots} root fields.`);
      },
      (err: Error) => !stopped && setSchemaNote(`The schema could not be loaded: ${err.message}`),
    );
    // Start with a feature's ready-made query: the one a feature page links with, else the first.
    void startingFeature()
      .then(async (feature) => {
        if (feature === undefined || stopped) return;
        const url = `/v1/admin/features/${encodeURIComponent(feature[0])}/${encodeURIComponent(feature[1])}`;
        const detail = await api<FeatureDetail>(url);
        if (stopped || editor.state.doc.toString() !== DEFAULT_QUERY) return;
        editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: detail.query.graphql } });
        setVariables(detail.query.variables);
      })
      .catch(() => undefined);
    return () => {
      stopped = true;
      editor.destroy();
      view.current = null;
    };
  }, []);

  return (
    <section aria-labelledby="query-title">
      <h1 id="query-title">Query</h1>
      <p id="query-help" class="muted">
        {schemaNote} Ctrl-Space completes; Ctrl-Enter (⌘-Enter) runs; Tab leaves the editor.
      </p>
      <div class="playground">
        <div class="editor-pane">
          <span class="label" id="editor-label">
            Query
          </span>
          <div ref={host} class="editor" data-testid="query-editor" />
          <label for="variables">Variables (JSON)</label>
          <textarea
            id="variables"
            rows={4}
            value={variables}
            onInput={(e) => setVariables(e.currentTarget.value)}
            spellcheck={false}
          />
          <button type="button" class="primary" onClick={() => void run()} disabled={running}>
            Run query
          </button>
        </div>
        <div class="result-pane">
          <h2 id="result-title">Result</h2>
          <ErrorNote error={error} />
          <pre
            class="code result"
            data-testid="query-result"
            aria-labelledby="result-title"
            aria-live="polite"
            tabIndex={0}
          >
            {answer}
          </pre>
        </div>
      </div>
    </section>
  );
}
