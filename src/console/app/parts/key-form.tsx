import { useState } from 'preact/hooks';
import { setApiKey } from '../api.ts';

/** Asks for an API key when the server wants one; it is kept in this browser only. */
export function KeyForm({ message }: { message: string }) {
  const [key, setKey] = useState('');
  return (
    <section class="card key-form" aria-labelledby="key-title">
      <h1 id="key-title">API key</h1>
      <p>{message}</p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (key.trim() !== '') setApiKey(key.trim());
        }}
      >
        <label for="api-key">Key (a read key browses; an admin key also retries, cancels and replays)</label>
        <input
          id="api-key"
          type="password"
          autoComplete="off"
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
        />
        <button type="submit" class="primary">
          Use this key
        </button>
      </form>
      <p class="muted">The key is kept in this browser's local storage and sent only to this server.</p>
    </section>
  );
}
