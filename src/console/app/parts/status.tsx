import type { ComponentChildren } from 'preact';
import { ApiError } from '../api.ts';

/** An error from the API, with its code and hint, announced to screen readers. */
export function ErrorNote({ error }: { error: Error | undefined }) {
  if (error === undefined) return null;
  const api = error instanceof ApiError ? error : undefined;
  return (
    <div class="note error" role="alert">
      <strong>{api?.code ?? 'Error'}</strong>: {error.message}
      {api?.hint ? <div class="hint">{api.hint}</div> : null}
    </div>
  );
}

/** Shown while the first answer is on its way. */
export function Loading({ when, children }: { when: boolean; children?: ComponentChildren }) {
  return when ? (
    <p class="muted" role="status">
      {children ?? 'Loading…'}
    </p>
  ) : null;
}

const STATE_CLASS: Record<string, string> = {
  succeeded: 'ok',
  running: 'info',
  runnable: 'info',
  queued: 'neutral',
  failed: 'bad',
  cancelled: 'warn',
};

/** A job state as a badge (colour and text: never colour alone). */
export function StateBadge({ state }: { state: string }) {
  return <span class={`badge ${STATE_CLASS[state] ?? 'neutral'}`}>{state}</span>;
}

/** A labelled progress bar: the native element, so assistive technology reads its value. */
export function Progress({ fraction, label }: { fraction: number; label: string }) {
  const percent = Math.round(fraction * 1000) / 10;
  return (
    <span class="progress">
      <progress max={100} value={percent} aria-label={label} />
      <span class="progress-text">{percent}%</span>
    </span>
  );
}
